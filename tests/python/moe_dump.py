"""What the two MoE parity tests share: running tests/tools/moe_step_dump on one case, and the
comparison they both use (absolute below 1, relative above)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from strata_test import TOOLS, scratch

TOOL = Path(TOOLS) / "moe_step_dump"
TOL = 1e-5


def check(what, got, want, tol=TOL):
    """The largest deviation of `got` from `want`; fails above `tol`."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    err = np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))) if got.size else 0.0
    assert err <= tol, f"{what}: max deviation {err:.3g} > {tol}"
    return err


class Dump:
    """What moe_step_dump wrote for one case: `load("inputs")` is inputs.npy as a numpy array."""

    def __init__(self, folder):
        self.folder = folder

    def __call__(self, name):
        return np.load(self.folder / f"{name}.npy")

    def has(self, name):
        return (self.folder / f"{name}.npy").exists()


def dump(prefix, name, cfg, steps, **arrays):
    """Runs moe_step_dump on `arrays` (saved as NAME.npy: X, labels, ...) and `cfg`; returns
    what it wrote, as a Dump."""
    d = scratch(f"{prefix}-{name}")
    for key, value in arrays.items():
        np.save(d / f"{key}.npy", value)
    (d / "config.json").write_text(json.dumps({**cfg, "steps": steps}))
    p = subprocess.run([str(TOOL), str(d)], capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"moe_step_dump failed on case {name}")
    return Dump(d)

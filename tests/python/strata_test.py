"""Shared helpers of the Python-driven tests: where things are, running strata, reading archives."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np

SOURCE = Path(os.environ.get("STRATA_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BIN = os.environ.get("STRATA_BIN", str(SOURCE / "build" / "strata"))
TOOLS = Path(os.environ.get("STRATA_TOOLS_DIR", SOURCE / "build" / "tests" / "tools"))


def quickstart_variant(folder, seeds="[0]", sparsity_cost="0.03", epochs=None, bootstrap=None, name="quickstart.toml"):
    """sweeps/quickstart.toml with other seeds, sparsity costs (one run by default), epochs or
    resamples, written into `folder`; returns its path."""
    text = (SOURCE / "sweeps" / "quickstart.toml").read_text()
    text = text.replace('archive = "../results/quickstart.h5"\n', "")
    for key, value in (("seeds", seeds), ("sparsity_cost", sparsity_cost), ("epochs", epochs), ("bootstrap", bootstrap)):
        if value is None:
            continue
        text, n = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.M)
        assert n == 1, key
    path = Path(folder) / name
    path.write_text(text)
    return path


def mpirun_or_skip():
    """Exits 77 (skipped) without mpirun."""
    if shutil.which("mpirun") is None:
        print("mpirun not found")
        sys.exit(77)


def same_under_mpirun(sweep, tmp, counts=(1, 2, 3, 4)):
    """Runs `sweep` in one process, then under `mpirun -np n` for each n, asserting every archive
    equals the single-process one; returns {n: archive} (0: the single-process run)."""
    archives = {0: tmp / "plain.h5"}
    strata("run", sweep, "--archive", archives[0], "--threads", "1", "--no-report")
    for n in counts:
        archives[n] = tmp / f"np{n}.h5"
        p = mpirun_strata(n, sweep, archives[n])
        assert p.returncode == 0, (n, p.stdout, p.stderr)
        count = assert_same_datasets(archives[0], archives[n])
        print(f"mpirun -np {n}: {count} datasets equal to the single-process run")
    return archives


def minilm_or_skip():
    """The MiniLM snapshot bootstrap.sh links into models/; without it the test is skipped."""
    model = SOURCE / "models" / "all-MiniLM-L6-v2"
    if not (model / "config.json").exists():
        print(f"{model}: no model snapshot (bootstrap.sh links it)")
        sys.exit(77)
    return model


def scratch(name):
    """A fresh folder for one test, under STRATA_TEST_TMP when set."""
    root = Path(os.environ.get("STRATA_TEST_TMP", tempfile.gettempdir()))
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=name + "-", dir=root))


def tool_json(tool, *args):
    """Runs a test tool (tests/tools) that prints one JSON object; returns it, or stops the test
    with the tool's output when it fails."""
    p = subprocess.run([str(tool), *map(str, args)], capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"{Path(str(tool)).name} {' '.join(map(str, args))} exited {p.returncode}")
    return json.loads(p.stdout)


def strata(*args, check=True, env=None):
    """Runs the strata CLI; returns the CompletedProcess."""
    e = dict(os.environ)
    e.setdefault("OMP_NUM_THREADS", "1")
    if env:
        e.update(env)
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, env=e)
    if check and p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"strata {' '.join(map(str, args))} exited {p.returncode}")
    return p


def mpirun_prefix(n):
    """mpirun's own arguments for n ranks on this machine: more ranks than cores allowed,
    shared-memory transport, and root allowed (CI containers run as root)."""
    cmd = ["mpirun", "--oversubscribe", "-np", str(n), "--mca", "btl", "self,vader"]
    if os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    return cmd


def mpi_environment(env=None):
    e = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1")
    e.setdefault("OMP_NUM_THREADS", "1")
    e.update(env or {})
    return e


def mpirun_strata(n, sweep, archive, *extra, env=None, timeout=300):
    """`mpirun -np n strata run SWEEP --archive ARCHIVE --threads 1 --no-report EXTRA...`."""
    cmd = mpirun_prefix(n) + [BIN, "run", str(sweep), "--archive", str(archive), "--threads", "1", "--no-report",
                              *map(str, extra)]
    return subprocess.run(cmd, capture_output=True, text=True, env=mpi_environment(env), timeout=timeout)


def datasets(path):
    """Every dataset of an HDF5 file (soft links resolved) as {name: numpy array}."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]
        f.visititems(visit)
    return out


def assert_same_datasets(a, b):
    da, db = datasets(a), datasets(b)
    assert sorted(da) == sorted(db), f"different datasets: {sorted(set(da) ^ set(db))}"
    for k in da:
        x, y = da[k], db[k]
        if isinstance(x, np.generic) and x.dtype.kind in "fiu":  # a scalar dataset
            x, y = np.asarray(x), np.asarray(y)
        if isinstance(x, np.ndarray) and x.dtype.kind in "fiu":
            assert x.shape == y.shape and x.dtype == y.dtype, k
            assert np.array_equal(x, y, equal_nan=True), f"{k} differs"
        else:
            assert np.array_equal(np.asarray(x, dtype=object), np.asarray(y, dtype=object)), f"{k} differs"
    return len(da)

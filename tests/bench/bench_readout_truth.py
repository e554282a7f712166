#!/usr/bin/env python3
"""Measurement: how well each readout ranks synthetic strata by their true dimension, on
geometries beyond the shipped sweeps. For each geometry below (other dimensions, curved strata,
other numbers of experts E and strata S, other scales) it writes a sweep with a list of
sparsity_cost values and --seeds training seeds, runs it with `strata run`, and prints, per
sparsity_cost, the mean over seeds of Spearman's rho between the gating-weighted sparsity and the
true dimension (analysis/truth/spearman/weighted_sparsity), with each seed's value and readout
flag, beside the mean rho of the PCA dimension. Not a test: it reports, it asserts nothing.

    python tests/bench/bench_readout_truth.py [--epochs 20] [--costs 0,0.03,0.1,0.3,1]
        [--seeds 3] [--only NAME ...] [--strata build/strata] [--keep DIR]
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np

SOURCE = Path(__file__).resolve().parents[2]

# name: ambient dim, strata (kind, dim, points, scale, offset), atoms, sparsity set (E), S
GEOMETRIES = {
    "linear 3/5/9/20 in R^256": (256, [("linear", d, 300, 1, 5) for d in (3, 5, 9, 20)], 32, [2, 4, 8, 12, 16, 24, 32], 4),
    "linear 1/4/8, scale 3": (64, [("linear", d, 300, 3, 10) for d in (1, 4, 8)], 16, [1, 2, 4, 8, 12, 16], 3),
    "linear 2/6/12, scale 0.3": (64, [("linear", d, 300, 0.3, 2) for d in (2, 6, 12)], 16, [2, 4, 6, 8, 12, 16], 3),
    "spheres 2/4/8": (64, [("sphere", d, 400, 1, 5) for d in (2, 4, 8)], 16, [2, 4, 6, 8, 12, 16], 3),
    "tori 1/2/4": (64, [("torus", d, 400, 1, 5) for d in (1, 2, 4)], 16, [2, 4, 6, 8, 12, 16], 3),
    "mixed, E = 4": (128, [("linear", 2, 300, 1, 5), ("sphere", 5, 300, 1, 5), ("linear", 10, 300, 1, 5)], 24,
                     [4, 8, 16, 24], 3),
    "linear 1/2/4/7/11, S = 5": (64, [("linear", d, 250, 1, 5) for d in (1, 2, 4, 7, 11)], 16, [1, 2, 4, 8, 12, 16], 5),
}


def sweep_text(name, geometry, args):
    L, strata, atoms, sparsity, S = geometry
    text = f'[experiment]\nname = "readout-truth"\nseed = 7\n\n[corpus.synthetic]\ndim = {L}\nnoise = 0.005\n'
    for i, (kind, d, n, scale, offset) in enumerate(strata):
        text += (f'\n[[corpus.synthetic.stratum]]\nname = "s{i}"\nkind = "{kind}"\ndim = {d}\npoints = {n}\n'
                 f'scale = {scale}\noffset = {offset}\n')
    return text + (f"\n[moe]\natoms = {atoms}\nsparsity = {sparsity}\nstrata = {S}\ngate_dim = 16\n"
                   f"epochs = {args.epochs}\nbatch_size = 128\nlr = 3e-3\nseeds = {list(range(args.seeds))}\n"
                   f"sparsity_cost = [{', '.join(str(c) for c in args.costs)}]\n\n"
                   "[analysis]\nkmeans_restarts = 5\nmle_k = 10\n")


def measure(name, geometry, args, folder):
    sweep = folder / "sweep.toml"
    sweep.write_text(sweep_text(name, geometry, args))
    archive = folder / "readout.h5"
    run = subprocess.run([args.strata, "run", str(sweep), "--archive", str(archive), "--no-report"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        print(f"{name}: strata run failed ({run.returncode}): {run.stderr.strip()[-500:]}")
        return
    by_cost = {}
    with h5py.File(archive, "r") as f:
        for rid in f["runs"]:
            r = f["runs"][rid]
            cost = json.loads(r.attrs["config"])["sparsity_cost"]
            rho = float(r["analysis/truth/spearman/weighted_sparsity"][()])
            pca = float(r["analysis/truth/spearman/dims/pca"][()])
            by_cost.setdefault(cost, []).append((rho, pca, str(r.attrs["readout"]).split(":")[0]))
    print(name)
    for cost in sorted(by_cost):
        runs = by_cost[cost]
        each = ", ".join(f"{rho:+.2f} ({flag})" for rho, _, flag in runs)
        print(f"  sparsity_cost {cost:<6g} weighted sparsity rho {np.nanmean([r[0] for r in runs]):+.2f}   "
              f"PCA rho {np.nanmean([r[1] for r in runs]):+.2f}   seeds: {each}")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--costs", default="0,0.03,0.1,0.3,1", type=lambda s: [float(x) for x in s.split(",")])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--only", nargs="*", help="geometries whose name contains one of these")
    ap.add_argument("--strata", default=str(SOURCE / "build" / "strata"))
    ap.add_argument("--keep", help="a folder for the sweeps and archives (default: a temporary one)")
    args = ap.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="readout-truth-"))
    for i, (name, geometry) in enumerate(GEOMETRIES.items()):
        if args.only and not any(o in name for o in args.only):
            continue
        folder = root / f"g{i}"
        folder.mkdir(parents=True, exist_ok=True)
        measure(name, geometry, args, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Geometry throughput: pointwise local ID and multiscale ID of N x L points through strata's
estimators (analysis_geometry_dump) on a device, against scikit-dimension and DADApy on this
machine's CPU on a subsample, per point.

    python tests/bench/bench_geometry.py [--n 100000] [--dim 2048] [--device cuda] [--ref-n 5000]
                                         [--tool build/tests/tools/analysis_geometry_dump]

The points: four linear strata of dimensions 4, 8, 16 and 32 (equal shares), randomly placed
in R^dim, fixed seed. strata runs `local` (local MLE and local TwoNN for k = 10, 20, 40 on every
point), `gride` (Gride at neighbour ranks up to 64) and `twonn_scaling` (TwoNN on N, N/2, ...),
each timed as a whole process (loading the points included). The references run where they are
installed (scikit-dimension's MLE and TwoNN fit_pw, DADApy's return_id_scaling_gride and
return_id_scaling_2NN) on the first --ref-n points; prints seconds per point of each and their
ratio. Without them it says so and prints strata's figures alone.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_points(n, dim, seed=0):
    rng = np.random.default_rng(seed)
    dims = [4, 8, 16, 32]
    parts = []
    for k, d in enumerate(dims):
        m = n // len(dims) + (1 if k < n % len(dims) else 0)
        basis = np.linalg.qr(rng.standard_normal((dim, d)))[0]
        parts.append((rng.uniform(-1, 1, (m, d)) @ basis.T + 0.01 * rng.standard_normal(dim)).astype(np.float32))
    return np.concatenate(parts)


def timed(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    return seconds, p.stdout


def references(X, ks):
    """Seconds per point of the references on X, or None where they are not installed."""
    try:
        import skdim
        from dadapy import Data
    except ImportError as e:
        print(f"references not installed here ({e}): strata's figures alone")
        return None
    out = {}
    t0 = time.perf_counter()
    for k in ks:
        skdim.id.MLE().fit(X, n_neighbors=k)  # its pointwise estimates come with the fit
    out["local MLE"] = (time.perf_counter() - t0) / len(X)
    t0 = time.perf_counter()
    for k in ks:
        skdim.id.TwoNN().fit_pw(X, n_neighbors=k)
    out["local TwoNN"] = (time.perf_counter() - t0) / len(X)
    d = Data(X.astype(np.float64), verbose=False)
    t0 = time.perf_counter()
    d.return_id_scaling_gride(range_max=64)
    out["Gride"] = (time.perf_counter() - t0) / len(X)
    d = Data(X.astype(np.float64), verbose=False)
    t0 = time.perf_counter()
    d.return_id_scaling_2NN()
    out["TwoNN scaling"] = (time.perf_counter() - t0) / len(X)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--dim", type=int, default=2048)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--ref-n", type=int, default=5000)
    ap.add_argument("--tool", default=os.path.join(os.environ.get("STRATA_TOOLS_DIR", "build/tests/tools"),
                                                   "analysis_geometry_dump"))
    args = ap.parse_args()
    ks = [10, 20, 40]
    X = make_points(args.n, args.dim)
    print(f"points {args.n} x {args.dim} (strata of dimension 4, 8, 16, 32), device {args.device}")
    strata = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "X.npy"
        np.save(path, X)
        base = [args.tool, f"--device={args.device}"]
        strata["local MLE + local TwoNN"], _ = timed(base + ["local", str(path), ",".join(map(str, ks)), str(Path(tmp) / "loc")])
        mle = np.load(Path(tmp) / "loc.mle.npy")
        strata["Gride"], out = timed(base + ["gride", str(path), "64"])
        gride = json.loads(out)
        strata["TwoNN scaling"], out = timed(base + ["twonn_scaling", str(path), "20", "0", str(Path(tmp) / "dec")])
        scaling = json.loads(out)
    total = sum(strata.values())
    for name, s in strata.items():
        print(f"strata {name:24s} {s:8.2f} s  ({s / args.n * 1e6:8.2f} us a point)")
    print(f"strata local and multiscale ID of {args.n} points: {total:.2f} s in all")
    medians = [float(np.median(mle[i * (args.n // 4):(i + 1) * (args.n // 4), 1])) for i in range(4)]
    print(f"  local MLE medians (k=20) per stratum: {np.round(medians, 2).tolist()} (true 4, 8, 16, 32)")
    print(f"  Gride ids: {np.round(gride['id'], 2).tolist()}; TwoNN scaling: {np.round(scaling['id'], 2).tolist()}")
    ref = references(X[np.random.default_rng(1).permutation(args.n)[: args.ref_n]], ks)
    if ref:
        pairs = {"local MLE + local TwoNN": ref["local MLE"] + ref["local TwoNN"], "Gride": ref["Gride"],
                 "TwoNN scaling": ref["TwoNN scaling"]}
        for name, per_point in pairs.items():
            mine = strata[name] / args.n
            print(f"reference {name:24s} {per_point * 1e6:10.2f} us a point on {args.ref_n} points (CPU); "
                  f"strata per point {per_point / mine:8.1f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())

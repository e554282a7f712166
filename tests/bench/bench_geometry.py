"""Geometry throughput: pointwise local ID and multiscale ID of N x L points through strata's
estimators (analysis_geometry_dump) on a device, against scikit-dimension and DADApy on this
machine's CPU on a subsample, per point.

    python tests/bench/bench_geometry.py [--n 100000] [--dim 2048] [--device cuda] [--ref-n 5000]
                                         [--tool build/tests/tools/analysis_geometry_dump]

The points: four linear strata of dimensions 4, 8, 16 and 32 (equal shares), randomly placed
in R^dim, fixed seed. strata runs, in one process timed as a whole (start-up and loading the
points included) and from one shared kNN as the geometry job does: local MLE and local TwoNN for
k = 10, 20, 40 on every point, Gride at neighbour ranks up to 64, and TwoNN on N, N/2, ... points;
it prints each stage's seconds. The references run where they are
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
    """Seconds per point of each reference installed here on X (scikit-dimension's pointwise MLE
    and TwoNN, DADApy's Gride and TwoNN scalings); says which are not installed."""
    out = {}
    try:
        import skdim
    except ImportError as e:
        print(f"scikit-dimension not installed here ({e})")
    else:
        t0 = time.perf_counter()
        for k in ks:
            skdim.id.MLE().fit(X, n_neighbors=k)  # its pointwise estimates come with the fit
        out["local MLE"] = (time.perf_counter() - t0) / len(X)
        t0 = time.perf_counter()
        for k in ks:
            skdim.id.TwoNN().fit_pw(X, n_neighbors=k)
        out["local TwoNN"] = (time.perf_counter() - t0) / len(X)
    try:
        from dadapy import Data
    except ImportError as e:
        print(f"DADApy not installed here ({e})")
    else:
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
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "X.npy"
        np.save(path, X)
        # As the geometry job runs them: one kNN shared by every estimator.
        wall, out = timed([args.tool, f"--device={args.device}", "id", str(path), ",".join(map(str, ks)), "64", "20", "0",
                           str(Path(tmp) / "loc")])
        result = json.loads(out)
        mle = np.load(Path(tmp) / "loc.mle.npy")
    for name, s in result["seconds"].items():
        print(f"strata {name:16s} {s:8.2f} s")
    print(f"strata local and multiscale ID of {args.n} points: {wall:.2f} s in all (one process, start-up included; "
          f"target < 30 s)")
    medians = [float(np.median(mle[i * (args.n // 4):(i + 1) * (args.n // 4), 1])) for i in range(4)]
    print(f"  local MLE medians (k=20) per stratum: {np.round(medians, 2).tolist()} (true 4, 8, 16, 32)")
    print(f"  Gride ids: {np.round(result['gride']['id'], 2).tolist()}; "
          f"TwoNN scaling: {np.round(result['twonn_scaling']['id'], 2).tolist()}")
    ref = references(X[np.random.default_rng(1).permutation(args.n)[: args.ref_n]], ks)
    for name, per_point in ref.items():
        print(f"reference {name:16s} {per_point * 1e6:10.2f} us a point on {args.ref_n} points (CPU)")
    if ref:
        total = sum(ref.values())
        print(f"the references above together: {total * 1e6:.2f} us a point; strata, all four: "
              f"{wall / args.n * 1e6:.2f} us a point: {total / (wall / args.n):.1f}x faster per point"
              + ("" if len(ref) == 4 else " (strata's figure includes the estimators whose reference is missing)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

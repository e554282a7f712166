"""strata's embedding-geometry estimators (core/analysis/geometry/) against independent
implementations on the same points: DADApy (Gride and TwoNN scaling, data and label overlap),
scikit-dimension (pointwise MLE, pointwise TwoNN, CorrInt, PH), GUDHI (Rips persistence up to
H1), scipy (MST) and numpy transcriptions (kNN, local TwoNN, correlation counts and scaling
range, volume growth, farthest-point landmarks).

Where a reference draws its own random subsets, strata's subsets are dumped and the reference
runs on exactly those, so the comparison is exact rather than statistical."""
import json
import os
import subprocess
import sys
import warnings

# DADApy pins numpy < 2, so the references live in an environment of their own (bootstrap.sh
# test makes it): run there.
_ref = os.environ.get("STRATA_REFERENCE_PYTHON")
if _ref and not os.environ.get("STRATA_IN_REFERENCE_PYTHON"):
    if not os.access(_ref, os.X_OK):
        sys.exit(f"{_ref}: the reference environment (DADApy, scikit-dimension) is missing: "
                 "`bash bootstrap.sh test` makes it")
    os.environ["STRATA_IN_REFERENCE_PYTHON"] = "1"
    os.execv(_ref, [_ref, os.path.abspath(__file__), *sys.argv[1:]])

import numpy as np  # noqa: E402
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import pdist, squareform
from sklearn.neighbors import NearestNeighbors

from strata_test import TOOLS, scratch, tool_json

try:
    import dadapy
    import gudhi
    import skdim
except ImportError as e:  # a test without its references would compare nothing: it fails instead
    sys.exit(f"the geometry references are not installed ({e}): `bash bootstrap.sh test` installs them")

TOOL = TOOLS / "analysis_geometry_dump"
warnings.filterwarnings("ignore")


def dump(*args):
    return tool_json(TOOL, *args)


def isometry(rng, L, d):
    return np.linalg.qr(rng.standard_normal((L, d)))[0]


def curved(rng, n, L=12):
    """A curved 3-manifold (S^3) embedded by a random isometry, with a little anisotropy."""
    Y = rng.standard_normal((n, 4))
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    return (Y * [1.0, 1.0, 0.8, 0.6]) @ isometry(rng, L, 4).T


def split(flat, sizes, counts):
    out, at = [], 0
    for s, c in zip(sizes, counts):
        out.append([flat[at + j * s: at + (j + 1) * s] for j in range(c)])
        at += s * c
    return out


def check_knn(tmp, X):
    dump("knn", tmp / "X.npy", 15, tmp / "knn")
    d, i = NearestNeighbors(n_neighbors=15).fit(X).kneighbors()
    assert np.allclose(np.load(tmp / "knn.dist.npy"), d, rtol=1e-12, atol=1e-14)
    assert (np.load(tmp / "knn.idx.npy") == i).mean() > 0.999  # ties aside, the same neighbours
    print("knn: distances and indices as sklearn")


def check_gride(tmp, X):
    out = dump("gride", tmp / "X.npy", 64)
    ids, errs, scales = dadapy.Data(X, verbose=False).return_id_scaling_gride(range_max=64)
    # Same likelihood, same bisection to 1e-7: the estimates agree to the bisection's precision.
    dev = np.abs(np.array(out["id"]) - ids).max()
    assert dev < 1e-6, (out["id"], ids)
    # DADApy's distances come from sklearn's expanded ‖a‖² − 2a·b + ‖b‖², ours from differences.
    assert np.allclose(out["err"], errs, rtol=1e-6), (out["err"], errs)
    assert np.allclose(out["scale"], scales, rtol=1e-9), (out["scale"], scales)
    print(f"gride: {len(ids)} scales, max |Δid| = {dev:.2e}, ids {np.round(ids, 2)}")


def check_twonn_scaling(tmp, X):
    out = dump("twonn_scaling", tmp / "X.npy", 20, 3, tmp / "dec")
    data = dadapy.Data(X, verbose=False)
    _, _, sizes = data.return_id_scaling_2NN(n_min=20, return_sizes=True)
    assert list(out["sizes"]) == list(sizes), (out["sizes"], sizes)  # the same decimation ladder
    subsets = split(np.load(tmp / "dec.subsets.npy"), [int(s) for s in out["sizes"]], [int(c) for c in out["count"]])
    worst = 0.0
    for t, draws in enumerate(subsets):
        ids = np.array([dadapy.Data(X[s], verbose=False).compute_id_2NN()[0] for s in draws])
        rs = [np.mean(NearestNeighbors(n_neighbors=2).fit(X[s]).kneighbors()[0]) for s in draws]
        for got, want in ((out["id"][t], ids.mean()), (out["std"][t], ids.std()),
                          (out["err"][t], ids.std() / np.sqrt(len(ids))), (out["scale"][t], np.mean(rs))):
            worst = max(worst, abs(got - want))
            assert abs(got - want) < 1e-8 * max(1.0, abs(want)), (t, got, want)
    print(f"twonn scaling: sizes {sizes.tolist()}, DADApy's 2NN on the same subsets, max deviation {worst:.1e}")


def twonn_numpy(P):
    """TwoNN with the linear fit, largest 10% of ratios left out: skdim's _twonn."""
    d = np.sort(squareform(pdist(P)), axis=1)
    mu = np.sort(d[:, 2] / d[:, 1])
    n = len(mu)
    keep = int(n * 0.9)
    x, y = np.log(mu[:keep]), -np.log(1 - np.arange(1, keep + 1) / n)
    return x @ y / (x @ x)


def check_local(tmp, X):
    ks = [10, 20, 40]
    np.save(tmp / "L.npy", X)
    dump("local", tmp / "L.npy", ",".join(map(str, ks)), tmp / "loc")
    mle, twonn = np.load(tmp / "loc.mle.npy"), np.load(tmp / "loc.twonn.npy")
    _, idx = NearestNeighbors(n_neighbors=max(ks)).fit(X).kneighbors()
    worst_mle = worst_twonn = 0.0
    for c, k in enumerate(ks):
        # skdim's default (unbiased=False) normalises by k − 1: the Levina–Bickel MLE itself.
        ref = skdim.id.MLE().fit(X, n_neighbors=k).dimension_pw_
        worst_mle = max(worst_mle, np.abs(mle[:, c] / ref - 1).max())
        assert np.allclose(mle[:, c], ref, rtol=1e-10), k
        ref = np.array([twonn_numpy(X[idx[i, :k]]) for i in range(len(X))])
        worst_twonn = max(worst_twonn, np.abs(twonn[:, c] - ref).max())
        assert np.allclose(twonn[:, c], ref, rtol=1e-8), k
    # skdim itself (sklearn regressions per point, so slow) on the first rows for k = 10.
    rows = 150
    ref = skdim.id.TwoNN().fit_pw(X, precomputed_knn=idx[:rows, :10], n_neighbors=10).dimension_pw_
    assert np.allclose(twonn[:rows, 0], ref, rtol=1e-8)
    print(f"local id: MLE vs skdim max rel {worst_mle:.1e}; TwoNN vs numpy max abs {worst_twonn:.1e}, "
          f"vs skdim fit_pw on {rows} rows ok")


def scaling_range_numpy(radii, counts, n, tol):
    """The scaling-range rule of correlation_dimension.h, transcribed."""
    c = counts.astype(float)
    lr, lc = np.log(radii), np.log(c / (n * (n - 1)))
    ok = (c >= n) & (c <= n * (n - 1) / 2)
    R = len(radii)
    slope = np.full(R - 1, np.nan)
    for j in range(R - 1):
        if ok[j] and ok[j + 1]:
            slope[j] = (lc[j + 1] - lc[j]) / (lr[j + 1] - lr[j])
    best, best_rms = None, np.inf
    for a in range(R - 1):
        for b in range(a + 2, R - 1):
            s = slope[a:b + 1]
            if not (np.all(np.isfinite(s)) and s.min() > 0 and s.max() <= s.min() * (1 + tol)):
                break
            p = np.polyfit(lr[a:b + 2], lc[a:b + 2], 1)
            rms = np.sqrt(np.mean((np.polyval(p, lr[a:b + 2]) - lc[a:b + 2]) ** 2))
            if best is None or b - a > best[1] - best[0] or (b - a == best[1] - best[0] and rms < best_rms):
                best, best_rms = (a, b), rms
    a, b = best
    return np.polyfit(lr[a:b + 2], lc[a:b + 2], 1)[0], a, b + 1


def corrint_band(X, d, k1, k2, rel=1e-12):
    """CorrInt's value with every pair within rounding of a radius counted in or out.

    Each radius is a median of k-th neighbour distances, so it is often a pair's own distance
    (mutual neighbours give the same value twice) and whether that pair lies below it depends
    on how the distance was rounded: strata and scikit-dimension may differ by those pairs."""
    nn = np.sort(pdist_square(d), axis=1)[:, 1:]
    r = [np.median(nn[:, k - 1]) for k in (k1, k2)]
    inner = [2 * (d < x * (1 - rel)).sum() for x in r]
    outer = [2 * (d <= x * (1 + rel)).sum() for x in r]
    vals = [np.log(c2 / c1) / np.log(r[1] / r[0]) for c1 in (inner[0], outer[0]) for c2 in (inner[1], outer[1])]
    return min(vals), max(vals)


def pdist_square(d):
    D = squareform(d)
    np.fill_diagonal(D, 0.0)
    return D


def check_correlation(tmp, X):
    out = dump("corr", tmp / "X.npy", 32, 0.15)
    radii, counts = np.array(out["radii"]), np.array(out["counts"])
    d = pdist(X)
    ref = np.array([2 * (d < r).sum() for r in radii])
    assert np.abs(counts - ref).max() <= 2, np.abs(counts - ref).max()  # a pair at r itself may round either way
    slope, lo, hi = scaling_range_numpy(radii, counts, len(X), 0.15)
    assert (lo, hi) == (out["lo"], out["hi"]) and abs(slope - out["dimension"]) < 1e-10, (slope, lo, hi, out)
    got = dump("corrint", tmp / "X.npy", 10, 20)["dimension"]
    want = skdim.id.CorrInt(k1=10, k2=20).fit(X).dimension_
    lo, hi = corrint_band(X, d, 10, 20)
    assert lo - 1e-12 <= got <= hi + 1e-12 and lo - 1e-12 <= want <= hi + 1e-12, (got, want, lo, hi)
    assert hi - lo < 1e-3 * abs(want), (lo, hi)  # only a pair or two can sit on a radius
    print(f"correlation: counts as pdist (max diff {np.abs(counts - ref).max()}), scaling range "
          f"[{out['r_lo']:.3g}, {out['r_hi']:.3g}] d = {out['dimension']:.3f}; CorrInt {got:.4f} vs skdim {want:.4f}")


def mst_scipy(P):
    return minimum_spanning_tree(squareform(pdist(P))).sum()


def check_ph0(tmp, X):
    got = dump("mst", tmp / "X.npy")["length"]
    want = mst_scipy(X)
    assert abs(got - want) < 1e-10 * want, (got, want)
    sizes = [200, 400, 800, 1600]
    out = dump("ph0", tmp / "X.npy", ",".join(map(str, sizes)), 2, 5, tmp / "ph0")
    subsets = split(np.load(tmp / "ph0.subsets.npy"), sizes, [2] * len(sizes))
    lengths = np.array([[mst_scipy(X[s]) for s in draws] for draws in subsets])
    assert np.allclose(np.array(out["lengths"]).reshape(lengths.shape), lengths, rtol=1e-10)
    slope = np.polyfit(np.log(np.repeat(sizes, 2)), np.log(lengths).ravel(), 1)[0]
    assert abs(out["slope"] - slope) < 1e-10 and abs(out["dimension"] - 1 / (1 - slope)) < 1e-8
    # skdim's PH draws its own subsets (evenly spaced sizes): the same quantity, so a statistical match.
    ref = skdim.id.PH(n_range_min=0.125, n_range_max=1.0, nsteps=8, subsamples=2, random_state=0).fit(X).dimension_
    assert abs(out["dimension"] / ref - 1) < 0.1, (out["dimension"], ref)
    print(f"ph0: MST as scipy (rel {abs(got / want - 1):.1e}), lengths on the same subsets as scipy, "
          f"d = {out['dimension']:.3f} vs skdim PH {ref:.3f}")


def check_overlap(tmp, X, rng):
    Y = X @ isometry(rng, X.shape[1], X.shape[1]) + 0.05 * rng.standard_normal(X.shape)
    labels = (X[:, 0] > 0.2).astype(np.int64) + (X[:, 1] > 0).astype(np.int64)
    np.save(tmp / "O.npy", X)
    np.save(tmp / "Y.npy", Y)
    np.save(tmp / "labels.npy", labels)
    out = dump("overlap", tmp / "O.npy", tmp / "Y.npy", tmp / "labels.npy", 20, tmp / "ov")
    mc = dadapy.MetricComparisons(X, maxk=20, verbose=False)
    data = mc.return_data_overlap(coordinates=Y, k=20)
    label = mc.return_label_overlap(labels, k=20, weighted=False)
    balanced = mc.return_label_overlap(labels, k=20)
    for name, want in (("data", data), ("label", label), ("label_balanced", balanced)):
        assert abs(out[name] - want) < 1e-12, (name, out[name], want)
    print(f"overlap: data {data:.4f}, label {label:.4f}, balanced {balanced:.4f} as DADApy")


def volume_numpy(X, klo, khi, R):
    d = NearestNeighbors(n_neighbors=khi).fit(X).kneighbors()[0]
    ranks = np.unique(np.round(np.logspace(np.log10(klo), np.log10(khi), R)).astype(int))
    x, y = np.log(d[:, ranks - 1]), np.log(ranks - 0.5)
    slope = np.array([np.polyfit(xi, y, 1)[0] for xi in x])
    best = np.full(len(x), np.inf)
    small, large = np.zeros(len(x)), np.zeros(len(x))
    for b in range(2, len(ranks) - 2):
        for i, xi in enumerate(x):
            A = np.c_[np.ones_like(xi), np.minimum(xi - xi[b], 0), np.maximum(xi - xi[b], 0)]
            c, *_ = np.linalg.lstsq(A, y, rcond=None)
            rss = ((y - A @ c) ** 2).sum()
            if rss < best[i]:
                best[i], small[i], large[i] = rss, c[1], c[2]
    return slope, small, large


def check_volume(tmp, X):
    P = X[:300]
    np.save(tmp / "P.npy", P)
    dump("volume", tmp / "P.npy", 10, 100, 16, tmp / "vol")
    slope, small, large = volume_numpy(P, 10, 100, 16)
    for name, want in (("slope", slope), ("slope_small", small), ("slope_large", large)):
        got = np.load(tmp / f"vol.{name}.npy")
        assert np.allclose(got, want, rtol=1e-7, atol=1e-9), (name, np.abs(got - want).max())
    print(f"volume growth: one- and two-segment slopes as numpy on {len(P)} points, median slope {np.median(slope):.2f}")


def farthest_numpy(X, m, first):
    chosen = [first]
    nearest = ((X - X[first]) ** 2).sum(1)
    while len(chosen) < min(m, len(X)):
        chosen.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, ((X - X[chosen[-1]]) ** 2).sum(1))
    return np.array(chosen)


def ordered_bars(bars):
    bars = np.array([(b, d) for b, d in bars if d > b]).reshape(-1, 2)
    return bars[np.lexsort((bars[:, 0], -(bars[:, 1] - bars[:, 0])))]


def check_persistence(tmp, rng):
    """Landmarks as a numpy farthest-point transcription; their H0/H1 bars as GUDHI's."""
    t = rng.uniform(0, 2 * np.pi, 600)
    circle = np.c_[np.cos(t), np.sin(t), 0.05 * rng.standard_normal((600, 10))] @ isometry(rng, 12, 12).T
    worst = 0.0
    for name, P, m in (("circle", circle, 80), ("sphere", curved(rng, 800), 120)):
        np.save(tmp / f"{name}.npy", P)
        dump("persistence", tmp / f"{name}.npy", m, 7, tmp / name)
        landmarks = np.load(tmp / f"{name}.landmarks.npy")
        assert np.array_equal(landmarks, farthest_numpy(P, m, 7)), name
        tree = gudhi.RipsComplex(points=P[landmarks]).create_simplex_tree(max_dimension=2)
        tree.compute_persistence()
        for dim in (0, 1):
            got = np.load(tmp / f"{name}.h{dim}.npy")
            want = ordered_bars(tree.persistence_intervals_in_dimension(dim))
            assert got.shape == want.shape, (name, dim, got.shape, want.shape)
            finite = np.isfinite(want)
            assert np.array_equal(finite, np.isfinite(got)), (name, dim)
            worst = max(worst, np.abs(got[finite] - want[finite]).max())
            assert np.allclose(got[finite], want[finite], rtol=1e-9, atol=1e-12), (name, dim)
        if name == "circle":
            h1 = np.load(tmp / "circle.h1.npy")
            assert h1[0, 1] - h1[0, 0] > 1.0 > h1[1, 1] - h1[1, 0], h1[:2]  # one loop, dying near sqrt(3)
    print(f"persistence: landmarks as numpy, H0/H1 bars of a circle and S^3 as GUDHI (max |diff| {worst:.1e})")


def check_duplicates(tmp, rng):
    """fp32 embeddings with a third of the rows repeated: no NaN or inf anywhere, the count reported."""
    X = curved(rng, 900).astype(np.float32)
    X = np.concatenate([X, X[rng.integers(0, 900, 450)]])
    groups = np.where(X[:, 0] > 0, 7, 3).astype(np.int64)
    np.save(tmp / "D.npy", X)
    np.save(tmp / "Dg.npy", groups)
    out = dump("geometry", tmp / "D.npy", tmp / "Dg.npy", tmp / "geo")
    assert out["numbers"]["points/duplicates"] == len(X) - len(np.unique(X, axis=0))
    assert "points/flag" in out["attrs"], out["attrs"]
    bad = {k: v for k, v in out["nonfinite"].items() if v}
    assert not bad, bad
    assert all(np.isfinite(v) for k, v in out["numbers"].items() if f"{k.split('/')[0]}/flag" not in out["attrs"])
    assert set(out["doc"]) >= set(out["numbers"]) | set(out["attrs"]) | set(out["tensors"])
    print(f"duplicates: {int(out['numbers']['points/duplicates'])} dropped, no NaN/inf in {len(out['tensors'])} tensors")


def main():
    rng = np.random.default_rng(11)
    with scratch("geometry_parity") as tmp:
        X = curved(rng, 2000)
        np.save(tmp / "X.npy", X)
        check_knn(tmp, X)
        check_gride(tmp, X)
        check_twonn_scaling(tmp, X)
        check_local(tmp, X[:1000])
        check_correlation(tmp, X)
        check_ph0(tmp, X)
        check_overlap(tmp, X[:1000], rng)
        check_volume(tmp, X)
        check_persistence(tmp, rng)
        check_duplicates(tmp, rng)


if __name__ == "__main__":
    main()

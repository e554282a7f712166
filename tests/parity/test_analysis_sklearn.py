"""strata's analyses against scikit-learn (PCA, adjusted Rand index, NMI, k-means) and against a
numpy/scipy transcription of the TwoNN and Levina-Bickel formulas (KD-tree neighbours)."""
import json
import subprocess
import sys

import numpy as np
from scipy.spatial import cKDTree
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from strata_test import TOOLS, scratch, tool_json

TOOL = TOOLS / "analysis_dump"


def dump(*args):
    return tool_json(TOOL, *args)


def check_pca(tmp, rng):
    X = rng.standard_normal((300, 12)) @ rng.standard_normal((12, 12)) + 2.0
    np.save(tmp / "X.npy", X)
    out = dump("pca", tmp / "X.npy", tmp / "pca")
    ref = PCA().fit(X)
    assert np.allclose(np.load(tmp / "pca.components.npy"), ref.components_, atol=1e-10)
    assert np.allclose(np.load(tmp / "pca.ratio.npy"), ref.explained_variance_ratio_, atol=1e-12)
    assert np.allclose(np.load(tmp / "pca.projection.npy"), ref.transform(X), atol=1e-9)
    cum = np.cumsum(ref.explained_variance_ratio_)
    for f, n in out["pca_dimension"].items():
        assert n == int(np.searchsorted(cum, float(f)) + 1), (f, n)


def check_agreement(tmp, rng):
    for trial in range(8):
        n = int(rng.integers(2, 200))
        a = rng.integers(0, int(rng.integers(1, 8)), n).astype(np.int64)
        b = (a if trial % 4 == 0 else rng.integers(0, int(rng.integers(1, 8)), n)).astype(np.int64)
        if trial % 3 == 0:
            b = np.where(rng.random(n) < 0.7, a * 3 + 1, b).astype(np.int64)
        np.save(tmp / "a.npy", a)
        np.save(tmp / "b.npy", b)
        out = dump("agreement", tmp / "a.npy", tmp / "b.npy")
        ari, nmi = adjusted_rand_score(a, b), normalized_mutual_info_score(a, b)
        assert abs(out["ari"] - ari) < 1e-12, (trial, out, ari)
        assert abs(out["nmi"] - nmi) < 1e-12, (trial, out, nmi)


def check_kmeans(tmp, rng):
    centers = rng.standard_normal((5, 8)) * 4.0
    truth = rng.integers(0, 5, 1000)
    X = centers[truth] + rng.standard_normal((1000, 8))
    np.save(tmp / "X.npy", X)
    out = dump("kmeans", tmp / "X.npy", 5, 3, tmp / "labels.npy")
    ref = KMeans(5, n_init=10, random_state=0).fit(X)
    labels = np.load(tmp / "labels.npy")
    inertia = ((X - np.stack([X[labels == c].mean(0) for c in range(5)])[labels]) ** 2).sum()
    assert abs(out["inertia"] - inertia) <= 1e-9 * inertia
    assert out["inertia"] <= ref.inertia_ * (1 + 1e-9), (out["inertia"], ref.inertia_)
    assert adjusted_rand_score(labels, ref.labels_) > 0.99


def twonn(X, discard=0.1):
    X = np.unique(X, axis=0)
    d, _ = cKDTree(X).query(X, 3)
    mu = np.sort(d[:, 2] / d[:, 1])
    n = len(mu)
    kept = min(n - 1, int(np.floor(n * (1 - discard))))
    x = np.log(mu[:kept])
    y = -np.log1p(-np.arange(1, kept + 1) / n)
    return x @ y / (x @ x)


def mle(X, k):
    X = np.unique(X, axis=0)
    d, _ = cKDTree(X).query(X, k + 1)
    T = np.log(d[:, 1:])
    return 1.0 / (T[:, k - 1:k] - T[:, :k - 1]).mean(1).mean()


def mle_levina_bickel(X, k):
    """Levina & Bickel's plain mean of the local estimates (k-1) / sum_j log(T_k / T_j)."""
    X = np.unique(X, axis=0)
    d, _ = cKDTree(X).query(X, k + 1)
    T = np.log(d[:, 1:])
    sums = (T[:, k - 1:k] - T[:, :k - 1]).sum(1)
    return ((k - 1) / sums[sums > 0]).mean()


def sphere(rng, n, d, ambient):
    """n points uniform on S^d, placed in R^ambient by a random isometry."""
    Y = rng.standard_normal((n, d + 1))
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    return Y @ np.linalg.qr(rng.standard_normal((ambient, d + 1)))[0].T


def check_mle_normalisations(tmp, rng):
    """Against numpy/scipy, and against the truth: on S^5 with k = 5 the inverse-averaged MLE is
    within 15% of 5, while Levina-Bickel's plain mean reads about (k-1)/(k-2) = 4/3 higher."""
    X = sphere(rng, 3000, 5, 24)
    np.save(tmp / "S5.npy", X)
    out = dump("dimensions", tmp / "S5.npy", 5)
    assert abs(out["mle_lb"] - mle_levina_bickel(X, 5)) < 1e-9, (out, mle_levina_bickel(X, 5))
    assert abs(out["mle"] - mle(X, 5)) < 1e-9
    assert abs(out["mle"] - 5) / 5 < 0.15, out
    assert 1.2 < out["mle_lb"] / out["mle"] < 1.45, out
    print(f"S^5, k = 5: mle {out['mle']:.3f}, mle_lb {out['mle_lb']:.3f}, twonn {out['twonn']:.3f}")


def check_dimensions(tmp, rng):
    Y = rng.standard_normal((1500, 6))
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    X = Y @ np.linalg.qr(rng.standard_normal((40, 6)))[0].T
    np.save(tmp / "X.npy", X)
    out = dump("dimensions", tmp / "X.npy", 15)
    assert abs(out["twonn"] - twonn(X)) < 1e-9, (out, twonn(X))
    assert abs(out["mle"] - mle(X, 15)) < 1e-9, (out, mle(X, 15))


def main():
    tmp = scratch("analysis-sklearn")
    rng = np.random.default_rng(20260)
    for check in (check_pca, check_agreement, check_kmeans, check_dimensions, check_mle_normalisations):
        check(tmp, rng)
        print(check.__name__, "ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Ground-truth recovery: strata of dimensions 2, 6 and 12 in R^64 are found again (ARI >= 0.9)
and their PCA dimensions rank in the true order."""
import h5py
import numpy as np

from strata_test import SOURCE, scratch, strata

tmp = scratch("ground-truth")
archive = tmp / "gt.h5"
strata("run", SOURCE / "sweeps" / "ground_truth.toml", "--archive", archive, "--threads", "2", "--no-report")

with h5py.File(archive, "r") as f:
    truth = f["embeddings/synthetic/truth"][()]
    (rid,) = list(f["runs"])
    r = f["runs"][rid]
    found = r["out/strata"][()]
    ari = float(r["analysis/ari_source"][()])
    pca = r["analysis/dims/pca"][()]
    twonn = r["analysis/dims/twonn"][()]
    mle = r["analysis/dims/mle"][()]

# Each recovered stratum is matched to the generating stratum it mostly holds.
match = [np.bincount(truth[found == s], minlength=3).argmax() for s in range(3)]
assert sorted(match) == [0, 1, 2], match
order_true = np.argsort(match)  # recovered stratum holding true dim 2, 6, 12
print(f"ARI {ari:.3f}; PCA dims by true stratum {pca[order_true]}, TwoNN {twonn[order_true]}, MLE {mle[order_true]}")
assert ari >= 0.9, ari
assert pca[order_true[0]] < pca[order_true[1]] < pca[order_true[2]], pca[order_true]
assert twonn[order_true[0]] < twonn[order_true[1]] < twonn[order_true[2]], twonn[order_true]

"""Ground-truth recovery: strata of dimensions 2, 6 and 12 in R^64 are found again (ARI >= 0.9),
their PCA and TwoNN dimensions rank in the true order, and the gating-weighted sparsity (the
paper's Table 2) ranks them so only with the per-atom cost on the gate: over the three training
seeds, Spearman's rho against the true dimension averages >= 0.8 with sparsity_cost = 0.1, while
without it (the paper's loss) the gate collapses and the run is flagged not informative."""
import json

import h5py
import numpy as np

from strata_test import SOURCE, scratch, strata

tmp = scratch("ground-truth")
archive = tmp / "gt.h5"
run = strata("run", SOURCE / "sweeps" / "ground_truth.toml", "--archive", archive, "--threads", "2", "--no-report")
print(run.stdout[-3000:])
assert "ground truth (synthetic strata)" in run.stdout, run.stdout

rho = {}
with h5py.File(archive, "r") as f:
    truth = f["embeddings/synthetic/truth"][()]
    assert list(f["embeddings/synthetic/truth_dim"][()]) == [2, 6, 12]
    assert len(f["runs"]) == 6  # 3 seeds x 2 sparsity costs, one stratum count
    for rid in f["runs"]:
        r = f["runs"][rid]
        cfg = json.loads(r.attrs["config"])
        found = r["out/strata"][()]
        match = [np.bincount(truth[found == s], minlength=3).argmax() for s in range(3)]
        assert sorted(match) == [0, 1, 2], match
        order = np.argsort(match)  # recovered stratum holding true dim 2, 6, 12
        assert float(r["analysis/ari_source"][()]) >= 0.9
        pca, twonn = r["analysis/dims/pca"][()], r["analysis/dims/twonn"][()]
        assert pca[order[0]] < pca[order[1]] < pca[order[2]], pca[order]
        assert twonn[order[0]] < twonn[order[1]] < twonn[order[2]], twonn[order]
        assert list(r["analysis/truth/dim"][()][order]) == [2, 6, 12]
        # The readouts' rank agreement with the truth is stored beside them.
        assert float(r["analysis/truth/spearman/dims/pca"][()]) == 1.0
        ws_rho = float(r["analysis/truth/spearman/weighted_sparsity"][()])
        rho.setdefault(cfg["sparsity_cost"], []).append((ws_rho, r.attrs["readout"]))

print({k: v for k, v in rho.items()})
with_cost, without = [x for x, _ in rho[0.1]], [x for x, _ in rho[0]]
assert np.mean(with_cost) >= 0.8, rho
assert all(flag == "informative" for _, flag in rho[0.1]), rho[0.1]
# Without the cost the paper's loss lets the gate drift to the densest expert: the rank
# agreement is a coin toss over seeds, and collapsed runs are flagged.
assert np.mean(without) < 0.6 and np.mean(with_cost) - np.mean(without) > 0.3, rho
assert any(flag.startswith("not informative") for _, flag in rho[0]), rho[0]

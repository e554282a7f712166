"""The quickstart sweep end to end: archive layout (read with h5py), what its runs say about
their readouts (ground truth, health flags), determinism, resume."""
import json
import re

import h5py
import numpy as np

from strata_test import SOURCE, assert_same_datasets, scratch, strata

sweep = SOURCE / "sweeps" / "quickstart.toml"
tmp = scratch("quickstart")
a, b = tmp / "a.h5", tmp / "b.h5"

run = strata("run", sweep, "--archive", a, "--threads", "2", "--no-report")
assert "Table 1" in run.stdout and "Table 2" in run.stdout, run.stdout
assert "ground truth (synthetic strata)" in run.stdout, run.stdout
print(run.stdout)

rho = {}
with h5py.File(a, "r") as f:
    assert f.attrs["format_version"] == 2
    assert "quickstart" in f.attrs["sweep_toml"]
    n = f["corpus/text"].shape[0]
    assert n == 1000 and f["corpus/label"].shape == (n,)
    assert [s.decode() if isinstance(s, bytes) else s for s in f["corpus/source_names"][()]] == \
        ["line", "plane", "sphere", "torus", "cube8"]
    assert f["embeddings/synthetic/data"].shape == (n, 64)
    assert f["embeddings/synthetic/data"].dtype == np.float32
    assert len(f["runs"]) == 6  # 3 seeds x 2 sparsity costs
    for rid in f["runs"]:
        r = f["runs"][rid]
        cfg = json.loads(r.attrs["config"])
        assert r.attrs["status"] == "done"
        E, M, L = 7, 32, 64
        assert r["params/dictionaries"].shape == (E, L, M)
        assert r["train/loss"].shape == (40,)
        g = r["out/gating"][()]
        assert g.shape == (n, E) and np.allclose(g.sum(1), 1, atol=1e-5)
        assert r["out/strata"].shape == (n,) and set(np.unique(r["out/strata"][()])) <= set(range(5))
        assert r["out/recon_error"].shape == (n,)
        for k in ("pca", "twonn", "mle", "mle_lb"):
            assert r["analysis/dims/" + k].shape == (5,)
            assert r["analysis/matched/" + k].shape == (5,)
            assert r["analysis/ci/" + k].shape == (5, 3)
        assert r["analysis/weighted_sparsity"].shape == (5,)
        ws = r["analysis/weighted_sparsity"][()]
        assert np.all((ws >= 8) & (ws <= 32)), ws
        assert r["analysis/gating_by_stratum"].shape == (5, E)
        t = r["trained"]  # the trained model this run analyses, shared by its stratum counts
        assert t["analysis/expert_grassmann"].shape == (E, E)
        assert np.allclose(np.diag(t["analysis/expert_grassmann"][()]), 0, atol=1e-4)
        assert t["analysis/pca3"].shape == (n, 3)
        # Thresholds stay >= 0 (the paper preset's default), and the health is recorded.
        assert (t["params/lista_theta"][()] >= 0).all()
        assert float(t["health/negative_thresholds"][()]) == 0.0
        assert t["health/argmax_share"].shape == (E,)
        # Every interval holds its estimate (m-out-of-n subsampling, centred on it).
        for name in r["analysis/ci"]:
            ci = r["analysis/ci"][name][()]
            ok = ~np.isnan(ci).any(axis=1)
            assert ok.any(), name
            assert np.all((ci[ok, 1] <= ci[ok, 0]) & (ci[ok, 0] <= ci[ok, 2])), (name, ci)
        rho.setdefault(cfg["sparsity_cost"], []).append(
            (float(r["analysis/truth/spearman/weighted_sparsity"][()]), r.attrs["readout"]))

print(rho)
with_cost, without = [x for x, _ in rho[0.03]], [x for x, _ in rho[0]]
assert np.mean(with_cost) >= 0.8, rho
assert all(flag == "informative" for _, flag in rho[0.03]), rho[0.03]
assert np.mean(without) < 0.6 and any(flag.startswith("not informative") for _, flag in rho[0]), rho[0]
assert "Table 2 (weighted sparsity) is not informative in" in run.stdout

# The same sweep, one seed and one cost, twice: identical datasets, bit for bit.
small = tmp / "small.toml"
text = sweep.read_text().replace('archive = "../results/quickstart.h5"', "")
text = re.sub(r"seeds = \[[^]]*\]", "seeds = [1]", text)
text = re.sub(r"sparsity_cost = \[[^]]*\]", "sparsity_cost = 0.03", text)
small.write_text(text)
c, d = tmp / "c.h5", tmp / "d.h5"
strata("run", small, "--archive", c, "--threads", "2", "--no-report")
strata("run", small, "--archive", d, "--threads", "2", "--no-report")
count = assert_same_datasets(c, d)
print(f"identical datasets in two runs: {count}")

# An existing archive is refused without --resume; with it, nothing is recomputed.
refused = strata("run", sweep, "--archive", a, "--no-report", check=False)
assert refused.returncode == 2 and "--resume" in refused.stderr, refused.stderr
again = strata("run", sweep, "--archive", a, "--resume", "--no-report")
assert "0 computed" in again.stderr, again.stderr

# inspect lists what the archive holds.
out = strata("inspect", a).stdout
assert "corpus: 1000 rows" in out and "embeddings synthetic: 1000 x 64" in out, out

"""The quickstart sweep end to end: archive layout (read with h5py), the strata shared by the runs
of one embedding (linked, and equal to what the archive's embedding gives), what its runs say about
their readouts (ground truth, health flags), determinism, resume."""
import json
import re
import subprocess

import h5py
import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from strata_test import SOURCE, TOOLS, assert_same_datasets, scratch, strata

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



def estimators(X, mle_k):
    """Every estimator of id_estimators.h on the rows X, by tests/tools/analysis_dump."""
    np.save(tmp / "rows.npy", X.astype(np.float64))
    p = subprocess.run([str(TOOLS / "analysis_dump"), "dimensions", str(tmp / "rows.npy"), str(mle_k)],
                       capture_output=True, text=True, check=True)
    return json.loads(p.stdout)


def check_shared_strata(f):
    """One strata job for the one embedding and stratum count; every run links it, and what it holds
    is what the archive's embedding, sources and gating give."""
    assert list(f["strata"]) == sorted({json.loads(r.attrs["config"])["strata_job"] for r in f["runs"].values()})
    assert len(f["strata"]) == 1, list(f["strata"])
    sid = next(iter(f["strata"]))
    st = f["strata"][sid]
    assert st.attrs["status"] == "done" and st.attrs["embedding"] == "synthetic"
    X = f["embeddings/synthetic/data"][()].astype(np.float64)
    source = f["corpus/source"].asstr()[()]
    labels = st["out/strata"][()]
    sizes = np.bincount(labels, minlength=5)
    assert np.array_equal(st["analysis/sizes"][()], sizes)
    names = list(f["corpus/source_names"].asstr()[()])
    domain = np.array([names.index(x) for x in source])
    assert np.array_equal(st["analysis/contingency"][()], np.array(
        [[np.sum((labels == s) & (domain == d)) for d in range(len(names))] for s in range(5)]))
    assert abs(float(st["analysis/ari_source"][()]) - adjusted_rand_score(domain, labels)) < 1e-12
    assert abs(float(st["analysis/nmi_source"][()]) - normalized_mutual_info_score(domain, labels)) < 1e-12
    for s in range(5):
        ref = estimators(X[labels == s], 10)  # the quickstart's mle_k
        for name, value in ref.items():
            got = float(st[f"analysis/dims/{name}"][s])
            assert abs(got - value) <= 1e-9 * max(1.0, abs(value)), (s, name, got, value)
    for rid, r in f["runs"].items():
        for path in ("out/strata", "analysis/dims", "analysis/matched", "analysis/sizes", "analysis/ci/pca",
                     "analysis/truth/dim"):
            parent, name = path.rsplit("/", 1)
            link = r[parent].get(name, getlink=True)
            assert isinstance(link, h5py.SoftLink) and link.path == f"/strata/{sid}/{path}", (rid, path, link)
        for k in ("pca", "twonn", "mle", "mle_lb"):
            assert np.array_equal(r["analysis/dims/" + k][()], st["analysis/dims/" + k][()], equal_nan=True)
        # The run's own readouts, from its gating and its strata job's labels.
        g = r["out/gating"][()].astype(np.float64)
        sparsity = r["trained/sparsity"][()].astype(np.float64)
        ws = np.array([(g[labels == s] @ sparsity).mean() for s in range(5)])
        ws[st["analysis/too_small"][()].astype(bool)] = np.nan
        assert np.allclose(r["analysis/weighted_sparsity"][()], ws, rtol=1e-9, equal_nan=True), rid
        assert isinstance(r["analysis"].get("weighted_sparsity", getlink=True), h5py.HardLink)
    print(f"strata job {sid}: shared by {len(f['runs'])} runs, equal to the embedding's own analysis")


with h5py.File(a, "r") as f:
    check_shared_strata(f)

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
assert "strata: 1 " in out, out

"""The quickstart sweep end to end: archive layout (read with h5py), determinism, resume."""
import h5py
import numpy as np

from strata_test import SOURCE, assert_same_datasets, scratch, strata

sweep = SOURCE / "sweeps" / "quickstart.toml"
tmp = scratch("quickstart")
a, b = tmp / "a.h5", tmp / "b.h5"

run = strata("run", sweep, "--archive", a, "--threads", "2", "--no-report")
assert "Table 1" in run.stdout and "Table 2" in run.stdout, run.stdout
print(run.stdout)

with h5py.File(a, "r") as f:
    assert f.attrs["format_version"] == 1
    assert "quickstart" in f.attrs["sweep_toml"]
    n = f["corpus/text"].shape[0]
    assert n == 1000 and f["corpus/label"].shape == (n,)
    assert [s.decode() if isinstance(s, bytes) else s for s in f["corpus/source_names"][()]] == \
        ["line", "plane", "sphere", "torus", "cube8"]
    assert f["embeddings/synthetic/data"].shape == (n, 64)
    assert f["embeddings/synthetic/data"].dtype == np.float32
    (rid,) = list(f["runs"])
    r = f["runs"][rid]
    assert r.attrs["status"] == "done"
    E, M, L = 7, 32, 64
    assert r["params/dictionaries"].shape == (E, L, M)
    assert r["train/loss"].shape == (40,)
    g = r["out/gating"][()]
    assert g.shape == (n, E) and np.allclose(g.sum(1), 1, atol=1e-5)
    assert r["out/strata"].shape == (n,) and set(np.unique(r["out/strata"][()])) <= set(range(5))
    assert r["out/recon_error"].shape == (n,)
    for k in ("pca", "twonn", "mle"):
        assert r["analysis/dims/" + k].shape == (5,)
    assert r["analysis/weighted_sparsity"].shape == (5,)
    ws = r["analysis/weighted_sparsity"][()]
    assert np.all((ws >= 8) & (ws <= 32)), ws
    assert r["analysis/gating_by_stratum"].shape == (5, E)
    assert r["analysis/gating_by_domain"].shape == (5, E)
    t = r["trained"]  # the trained model this run analyses, shared by its stratum counts
    assert t["analysis/expert_grassmann"].shape == (E, E)
    assert np.allclose(np.diag(t["analysis/expert_grassmann"][()]), 0, atol=1e-4)
    assert t["analysis/pca3"].shape == (n, 3)
    assert r["analysis/ci/pca"].shape == (5, 3)

# Same sweep, second archive: identical datasets, bit for bit.
strata("run", sweep, "--archive", b, "--threads", "2", "--no-report")
count = assert_same_datasets(a, b)
print(f"identical datasets in two runs: {count}")

# An existing archive is refused without --resume; with it, nothing is recomputed.
refused = strata("run", sweep, "--archive", a, "--no-report", check=False)
assert refused.returncode == 2 and "--resume" in refused.stderr, refused.stderr
again = strata("run", sweep, "--archive", a, "--resume", "--no-report")
assert "0 computed" in again.stderr, again.stderr

# inspect lists what the archive holds.
out = strata("inspect", a).stdout
assert "corpus: 1000 rows" in out and "embeddings synthetic: 1000 x 64" in out, out

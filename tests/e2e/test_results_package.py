"""strata_results on the quickstart's archive: its tables hold the numbers `strata inspect` prints and
h5py reads, new datasets appear without code changes, and `strata export` writes files that pandas
reads back equal (Parquet) or equal to print precision (CSV)."""
import json
import re
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd

from strata_test import SOURCE, quickstart_variant, scratch, strata

sys.path.insert(0, str(SOURCE / "results"))
import strata_results as sr  # noqa: E402  (the source tree's package, as strata runs it)
from strata_results.export import file_form  # noqa: E402

tmp = scratch("results-package")
archive = tmp / "quickstart.h5"
strata("run", quickstart_variant(tmp), "--archive", archive, "--threads", "2", "--no-report", "--quiet")

# --- runs: the numbers `strata inspect` prints ------------------------------------------------
a = sr.open(archive)
runs = a.runs
assert isinstance(runs, pd.DataFrame) and len(runs) == 1, runs
printed = strata("inspect", archive).stdout.splitlines()
header = next(i for i, line in enumerate(printed) if line.split()[:2] == ["id", "status"])
rows = [line.split()[:12] for line in printed[header + 1:] if re.match(r"\s+[0-9a-f]{16} ", line)]
assert len(rows) == len(runs), (rows, printed)
for rid, status, embedding, S, E, atoms, seed, gate, loss, entropy, ari, nmi in rows:
    row = runs.set_index("run").loc[rid]
    assert (row.status, row.embedding, row.gate) == (status, embedding, gate), row
    assert (row.strata, row.experts, row.atoms) == (int(S), int(E), int(atoms)), row
    assert f"{row.loss:.5f}" == loss and f"{row.entropy_overall:.3f}" == entropy, (row.loss, loss, row.entropy_overall)
    assert f"{row.ari_source:.3f}" == ari and f"{row.nmi_source:.3f}" == nmi, (row.ari_source, ari)
print(f"runs: {runs.shape[1]} columns; {len(rows)} row(s) as strata inspect prints them")

# --- the same numbers read with h5py, and computed here -------------------------------------
(rid,) = runs.run
with h5py.File(archive, "r") as f:
    run = f["runs"][rid]
    h = {k: run[f"analysis/{k}"][()] for k in ("sizes", "dims/pca", "dims/twonn", "dims/mle", "weighted_sparsity",
                                                "entropy_by_stratum", "ci/pca", "ci/weighted_sparsity")}
    gating, labels = run["out/gating"][()], run["out/strata"][()]
    texts = [t.decode() if isinstance(t, bytes) else t for t in f["corpus/text"][()]]
    truth = f["embeddings/synthetic/truth"][()]
    spec = json.loads(f["corpus"].attrs["config"])["synthetic"]
    train_id = run.attrs["train_id"]
    dictionaries = f[f"trained/{train_id}/params/dictionaries"][()]
    config = json.loads(run.attrs["config"])
row = runs.iloc[0]
assert row.atoms == config["atoms"] and row.analysis_seed == config["seed"] and row.sparsity == tuple(config["sparsity"])
sizes = h["sizes"].astype(np.float64)
assert np.isclose(row.dim_pca, np.sum(h["dims/pca"] * sizes) / sizes.sum())
assert np.isclose(row.weighted_sparsity, np.sum(h["weighted_sparsity"] * sizes) / sizes.sum())
# Spearman's rho of the estimate against each found stratum's true dimension (the mean over its points).
from scipy.stats import spearmanr  # noqa: E402

true_dim = np.array([s["dim"] for s in spec["stratum"]], dtype=np.float64)[truth]
per_stratum = np.array([true_dim[labels == s].mean() for s in range(len(sizes))])
assert np.isclose(row.spearman_dim_twonn, spearmanr(h["dims/twonn"], per_stratum).statistic), row.spearman_dim_twonn

st = a.strata(rid)
assert list(st.stratum) == list(range(len(sizes))) and np.array_equal(st["size"], h["sizes"])
assert np.array_equal(st.dim_pca, h["dims/pca"]) and np.array_equal(st.dim_mle, h["dims/mle"])
assert np.array_equal(st.dim_pca_lo, h["ci/pca"][:, 1]) and np.array_equal(st.dim_pca_hi, h["ci/pca"][:, 2])
assert np.array_equal(st.weighted_sparsity_hi, h["ci/weighted_sparsity"][:, 2])
assert np.array_equal(st.entropy, h["entropy_by_stratum"])

g = a.gating(rid)
assert g.dims == ("point", "expert") and np.array_equal(g.values, gating)
assert list(g.text.values) == texts and np.array_equal(g.stratum.values, labels)
assert g.sparsity.values.tolist() == config["sparsity"]
assert np.isclose(float(g.groupby("stratum").mean().sel(stratum=0, expert=0)), gating[labels == 0, 0].mean())
model = a.trained_model(train_id)
assert np.array_equal(model["params/dictionaries"], dictionaries) and model.config["atoms"] == config["atoms"]
assert a.trained.trained.tolist() == [train_id] and a.embeddings.embedding.tolist() == ["synthetic"]
assert a.embedding("synthetic").shape == (len(texts), 64) and a.geometry("none") == {} and a.geometries == []
print(f"strata: {st.shape[1]} columns, gating {dict(g.sizes)}, trained model {len(model)} datasets")

# xarray is optional: without it, gating says what to install.
probe = subprocess.run([sys.executable, "-c", "import sys; sys.modules['xarray'] = None\n"
                        "import strata_results as sr\n"
                        f"a = sr.open({str(archive)!r})\n"
                        f"try:\n    a.gating({rid!r})\nexcept ImportError as e:\n    print(e)\n"
                        f"print(a.gating_frame({rid!r}).shape)"],
                       capture_output=True, text=True, cwd=SOURCE / "results")
assert "needs xarray" in probe.stdout and f"({len(texts)}, " in probe.stdout, probe.stdout + probe.stderr

# --- read generically: an estimator, a flag, a health number and a geometry group added later -----
grown = tmp / "grown.h5"
shutil.copyfile(archive, grown)
with h5py.File(grown, "r+") as f:
    an = f["runs"][rid]["analysis"]
    an["dims/corrint"] = np.arange(len(sizes), dtype=np.float64)
    an["ci/corrint"] = np.stack([np.arange(len(sizes))] * 3, axis=1).astype(np.float64) + [0, -1, 1]
    del an["too_small"]  # the run's own flags, replaced by others
    an["too_small"] = (h["sizes"] < 150).astype(np.uint8)
    an["health/nan_rows"] = np.int64(3)
    f["geometry/curvature/per_point"] = np.ones(len(texts), dtype=np.float32)
    f["geometry/curvature"].attrs["estimator"] = "local quadratic"
b = sr.open(grown)
assert b.runs.loc[0, "health/nan_rows"] == 3 and np.isclose(b.runs.loc[0, "dim_corrint"],
                                                            np.sum(np.arange(len(sizes)) * sizes) / sizes.sum())
gst = b.strata(rid)
assert np.array_equal(gst.dim_corrint_lo, np.arange(len(sizes)) - 1.0)
assert np.array_equal(gst.too_small, (h["sizes"] < 150).astype(np.uint8))
geo = b.geometry("curvature")
assert list(geo) == ["per_point"] and geo.attrs["estimator"] == "local quadratic" and geo["per_point"].sum() == len(texts)
assert b.geometries == ["curvature"]
b.close()
print("generic: a new estimator, flag, health number and geometry group read without code changes")

# --- strata export: Parquet read back equal, CSV equal to print precision ------------------------
out = tmp / "parquet"
p = strata("export", archive, "-o", out, "--format", "parquet")
assert "tables" in p.stdout, p.stdout
for name, table in (("runs", a.runs), ("trained", a.trained), ("embeddings", a.embeddings), ("corpus", a.corpus)):
    pd.testing.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"), file_form(table))
back = pd.read_parquet(out / "strata.parquet")
pd.testing.assert_frame_equal(back.drop(columns="run"), st)
assert back.run.tolist() == [rid] * len(st)
assert np.array_equal(pd.read_parquet(out / "assignments.parquet")[rid], labels)
csv_out = tmp / "csv"
strata("export", archive, "-o", csv_out)
csv_runs = pd.read_csv(csv_out / "runs.csv", dtype={"run": str, "train_id": str, "job_id": str})
numeric = [c for c in a.runs.columns if pd.api.types.is_float_dtype(a.runs[c])]
assert numeric and np.allclose(csv_runs[numeric].to_numpy(), a.runs[numeric].to_numpy(), rtol=1e-12, equal_nan=True)
assert csv_runs.loc[0, "sparsity"] == json.dumps(config["sparsity"])
pd.testing.assert_frame_equal(pd.read_csv(csv_out / "strata.csv").drop(columns="run"), st, check_dtype=False)
print(f"export: {len(list(out.iterdir()))} Parquet tables read back equal; CSV equal")

# --- bad input: one line, exit 2 ----------------------------------------------------------------
junk = tmp / "junk.h5"
junk.write_bytes(b"not an archive")
for args, expected in (((tmp / "missing.h5", "-o", tmp / "x"), "no such file"),
                       ((junk, "-o", tmp / "x"), "not a strata archive"),
                       ((archive, "-o", tmp / "x", "--format", "xlsx"), "--format")):
    p = strata("export", *args, check=False)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and expected in lines[0], (args, p.returncode, p.stderr)
p = subprocess.run([sys.executable, "-m", "strata_results", "export", str(junk), "-o", str(tmp / "x")],
                   capture_output=True, text=True, cwd=SOURCE / "results")
assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "junk.h5" in p.stderr, p.stderr
print("bad input: one line, exit 2")

"""The geometry job end to end (sweeps/geometry.toml, smaller): /geometry/<embedding> holds every
readout with its meaning, groups are the true strata, pointwise local ID recovers each crossing
stratum's dimension (median within 15%), the job depends on the embedding alone (a training change
reuses it), and a space of duplicated rows is flagged, never given NaN or infinity silently."""
import csv
import json
import re

import h5py
import numpy as np

from strata_test import SOURCE, scratch, strata

tmp = scratch("geometry-job")
base = (SOURCE / "sweeps" / "geometry.toml").read_text()
base = base.replace("points = 1000", "points = 500").replace('archive = "../results/geometry.h5"\n', "")


def run(text, archive, *extra):
    path = tmp / "geometry.toml"
    path.write_text(text)
    p = strata("run", path, "--archive", archive, "--threads", "2", "--no-report", *extra)
    m = re.search(r"(\d+) computed, (\d+) already in the archive, 0 failed", p.stderr)
    assert m, p.stderr
    return int(m.group(1)), int(m.group(2))


archive = tmp / "g.h5"
assert run(base, archive) == (6, 0)  # corpus, embedding, train, strata, run, geometry
with h5py.File(archive, "r") as f:
    g = f["geometry/synthetic"]
    doc = json.loads(g.attrs["doc"])
    names = []
    g.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    assert not [n for n in names if n not in doc], "every dataset has its meaning"
    assert g.attrs["groups"] == "truth"
    true_dims = f["embeddings/synthetic/truth_dim"][()]
    medians = g["local_id/by_group/mle/median"][()]  # [group, k]
    ks = list(g["local_id/ks"][()])
    col = ks.index(20)
    for s, d in enumerate(true_dims):
        assert abs(medians[s, col] / d - 1) < 0.15, (s, d, medians[s])
    for name in names:
        v = g[name][()]
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            flagged = any(k.endswith("/flag") and name.startswith(k.split("/")[0]) for k in names)
            assert np.all(np.isfinite(v)) or flagged, name
    print("local MLE medians (k=20):", np.round(medians[:, col], 2), "truth", true_dims)

listing = strata("inspect", archive, "--boundary", "--limit", "5").stdout
assert "synthetic: points where groups (truth) meet" in listing and "stratum" in listing, listing

strata("report", archive, "-o", tmp / "report")
for figure in ("geometry-synthetic-local.png", "geometry-synthetic-volume.png"):
    assert (tmp / "report" / "figures" / figure).exists(), figure
for table in ("geometry_global", "geometry_local_synthetic", "geometry_boundary_synthetic"):
    assert (tmp / "report" / "tables" / f"{table}.csv").exists(), table  # every table's CSV link resolves


def cells(text):
    """'median [q25, q75]' -> three floats."""
    m = re.fullmatch(r"(\S+) \[(\S+), (\S+)\]", text)
    return [float(m.group(i)) for i in (1, 2, 3)]


# Local ID per k-means stratum: the report's table against numpy on the archive's own datasets,
# and, for strata that mostly hold one true stratum, against that stratum's dimension.
def strata_table(archive, report):
    """Checks the report's per-stratum local ID; returns (purity, medians) of its strata."""
    with h5py.File(archive, "r") as f:
        (strata_id,) = list(f["strata"])
        labels = f[f"strata/{strata_id}/out/strata"][()]
        purity = f[f"strata/{strata_id}/analysis/truth/purity"][()]
        truth = f[f"strata/{strata_id}/analysis/truth/dim"][()]
        g = f["geometry/synthetic"]
        mle, point_rows = g["local_id/mle"][()], g["points/rows"][()]
        ks = list(g["local_id/ks"][()])
    rows = list(csv.DictReader(open(report / "tables" / "geometry_strata_synthetic_k-means__3_strata.csv")))
    assert len(rows) == 3, rows
    of_point = labels[point_rows]
    medians = []
    for s, row in enumerate(rows):
        mine = mle[of_point == s][:, ks.index(20)]
        assert int(row["points analysed"]) == len(mine)
        want = np.quantile(mine[np.isfinite(mine)], [0.5, 0.25, 0.75])
        assert np.allclose(cells(row["MLE k=20"]), want, atol=0.006), (row, want)  # printed to 2 decimals
        assert row["true dim (purity)"] == f"{truth[s]:.0f} ({purity[s]:.2f})"
        if purity[s] >= 0.9:
            assert abs(want[0] / truth[s] - 1) < 0.15, (s, want, truth[s], purity[s])
        medians.append(want[0])
    return purity, medians


strata_table(archive, tmp / "report")  # crossing strata: k-means mixes them (purity about 0.4)
# The same strata apart from one another: k-means finds them, and their local IDs are the truth's.
apart = base.replace("scale = 1.0\n", "scale = 1.0\noffset = 8.0\n").replace("scale = 1.5\n", "scale = 1.5\noffset = 8.0\n")
assert apart.count("offset = 8.0") == 3
assert apart.rstrip().endswith("ks = [10, 20, 40]")  # [geometry] is the last table
run(apart + "persistence = true\npersistence_landmarks = 60\n", tmp / "apart.h5")
strata("report", tmp / "apart.h5", "-o", tmp / "apart-report")
purity, medians = strata_table(tmp / "apart.h5", tmp / "apart-report")
assert (purity >= 0.9).all(), purity
print("local MLE per k-means stratum, strata apart:", np.round(medians, 2), "purity", np.round(purity, 2))

# Persistent homology per true stratum: a disc, a cube and a 3-sphere have no loops; every landmark
# starts one H0 bar; the report's table says the same as the archive.
with h5py.File(tmp / "apart.h5", "r") as f:
    g = f["geometry/synthetic"]
    loops, count, h0 = g["persistence/loops"][()], g["persistence/landmark_count"][()], g["persistence/h0"][()]
    spacing, longest = g["persistence/spacing"][()], g["persistence/h1_longest"][()]
assert (count == 60).all() and (loops == 0).all(), (count, loops)
assert [int((h0[:, 0] == s).sum()) for s in range(3)] == [60, 60, 60]
rows = list(csv.DictReader(open(tmp / "apart-report" / "tables" / "geometry_persistence_synthetic.csv")))
assert [int(r["loops"]) for r in rows] == [0, 0, 0]
assert np.allclose([float(r["longest H1 bar (spacings)"]) for r in rows], longest / spacing, atol=0.051)
assert (tmp / "apart-report" / "figures" / "geometry-synthetic-persistence.png").exists()
print("persistence per stratum: loops", loops.tolist(), "longest H1 bar in spacings", np.round(longest / spacing, 2))

# Another training leaves the geometry as it was: it reads the embedding alone.
computed, reused = run(base.replace("epochs = 5", "epochs = 6"), archive, "--resume")
assert computed == 2 and reused == 4, (computed, reused)

# Half the rows are copies: the readouts describe the distinct points, and say so.
X = np.random.default_rng(0).standard_normal((300, 8)).astype(np.float32)
np.save(tmp / "dup.npy", np.concatenate([X, X, X[:100]]))
rows = "\n".join(json.dumps({"text": f"t{i}", "source": "s" + str(i % 2), "label": i % 2}) for i in range(700))
(tmp / "dup.jsonl").write_text(rows + "\n")
dup_sweep = f"""
[experiment]
name = "dup"
seed = 1
[corpus]
table = "{tmp / 'dup.jsonl'}"
[[model]]
name = "copies"
import = "{tmp / 'dup.npy'}"
[moe]
atoms = 4
sparsity = [1, 2]
strata = 2
gate_dim = 4
epochs = 1
[geometry]
on = true
"""
assert run(dup_sweep, tmp / "dup.h5")[0] == 6
with h5py.File(tmp / "dup.h5", "r") as f:
    g = f["geometry/copies"]
    assert g["points/duplicates"][()] == 400 and g["points/analysed"][()] == 300
    assert "exact duplicates" in g["points/flag"][()][0].decode()
    assert np.all(np.isfinite(g["local_id/mle"][()])) and np.all(np.isfinite(g["local_id/twonn"][()]))
    assert g.attrs["groups"] == "source"
print("ok")

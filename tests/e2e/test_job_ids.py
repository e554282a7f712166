"""Job ids cover what changes a result: on --resume, a batching change recomputes the embedding
(its values depend on the batches under mean-with-padding), a model folder replaced in place is
recomputed, and what was made from the old embedding stays in the archive but reads as stale
(strata's summary and strata_results); `strata embed` followed by `strata run --resume` over
the same table and model reuses the embedding instead of refusing the archive."""
import json
import shutil
import sys

import h5py
import numpy as np

from strata_test import SOURCE, minilm_or_skip, scratch, strata

sys.path.insert(0, str(SOURCE / "results"))
import strata_results as sr  # noqa: E402

MODEL = minilm_or_skip()

TABLE = SOURCE / "tests" / "mpi" / "tiny_text.jsonl"
tmp = scratch("job-ids")
model = tmp / "model"
shutil.copytree(MODEL, model, symlinks=False)


def sweep(name, pooling="mean-with-padding", batch_size=4):
    path = tmp / f"{name}.toml"
    path.write_text(f"""
[experiment]
name = "{name}"
seed = 3
[corpus]
table = {json.dumps(str(TABLE))}
[[model]]
name = "m"
path = {json.dumps(str(model))}
pooling = "{pooling}"
max_tokens = 32
batch_size = {batch_size}
[moe]
atoms = 8
sparsity = [2, 4]
strata = [2]
gate_dim = 8
epochs = 1
batch_size = 8
[analysis]
kmeans_restarts = 1
mle_k = 4
[cluster]
commit_interval_s = 0
""")
    return path


def events(sweep_file, archive, *extra):
    """The run's (done, reused) objects, from its --log-json events."""
    p = strata("run", sweep_file, "--archive", archive, "--threads", "1", "--no-report", "--log-json", *extra)
    done, reused = set(), set()
    for line in p.stdout.splitlines():
        e = json.loads(line)
        if e["event"] == "job_done":
            done.add(e["job"])
        elif e["event"] == "job_reused":
            reused.add(e["job"])
    return done, reused


def embedding(archive):
    with h5py.File(archive, "r") as f:
        return f["embeddings/m/data"][()], f["embeddings/m"].attrs["job_id"]


def statuses(archive):
    """{object: status} of the trained models and runs, as strata_results reads them."""
    a = sr.open(archive)
    return {**{t.path: t.status for t in a.catalog.trained.values()}, **{r.path: r.status for r in a.catalog.runs}}


# 1. A batching change is a change of result under mean-with-padding: another embedding id, so
# --resume computes the embedding again (with a warning) instead of reusing stale vectors.
archive = tmp / "batching.h5"
done, reused = events(sweep("batching", batch_size=4), archive)
assert "/embeddings/m" in done and not reused, (done, reused)
vectors_before, id_before = embedding(archive)
first = statuses(archive)
assert first and set(first.values()) == {"done"}, first
p = strata("run", sweep("batching", batch_size=7), "--archive", archive, "--resume", "--threads", "1",
           "--no-report", "--log-json")
assert "holds embeddings from another configuration" in p.stderr and "computing them again" in p.stderr, p.stderr
done = {json.loads(l)["job"] for l in p.stdout.splitlines() if json.loads(l)["event"] == "job_done"}
assert "/embeddings/m" in done, done
vectors_after, id_after = embedding(archive)
assert id_after != id_before and vectors_after.shape == vectors_before.shape
assert not np.array_equal(vectors_after, vectors_before)  # mean-with-padding: the batches show
# What the old vectors made is kept, and reads as stale; the new results are done.
now = statuses(archive)
assert {k: v for k, v in now.items() if k in first} == {k: "stale" for k in first}, now
assert [v for k, v in now.items() if k not in first] and all(v == "done" for k, v in now.items() if k not in first)
summary = strata("inspect", archive).stdout
assert "stale" in summary and "made from /embeddings/m" in summary, summary
print(f"batching change: embedding recomputed (job {id_before} -> {id_after}); {len(first)} old results stale")

# The same sweep again reuses everything.
done, reused = events(sweep("batching", batch_size=7), archive, "--resume")
assert not done and "/embeddings/m" in reused, (done, reused)

# 2. A model folder replaced in place (same path, other content) gets another id: recomputed.
config = json.loads((model / "config.json").read_text())
(model / "config.json").write_text(json.dumps(config, indent=1) + "\n")  # same model, other bytes
done, reused = events(sweep("batching", batch_size=7), archive, "--resume")
assert "/embeddings/m" in done, (done, reused)
assert embedding(archive)[1] != id_after
print("model folder replaced in place: a new id, recomputed")

# 3. `strata embed` then `strata run --resume` on one archive: same corpus and embedding ids.
archive = tmp / "embed-then-run.h5"
strata("embed", "--model", model, "--corpus", TABLE, "-o", archive, "--name", "m", "--pooling", "mean",
       "--max-tokens", "32", "--batch-size", "4", "--device", "cpu")
_, embed_id = embedding(archive)
done, reused = events(sweep("resume", pooling="mean", batch_size=4), archive, "--resume")
assert {"/corpus", "/embeddings/m"} <= reused, (done, reused)
assert not any(o.startswith("/embeddings") for o in done), done
assert embedding(archive)[1] == embed_id
print("strata embed then strata run --resume: corpus and embedding reused")

# A different model setting after `strata embed`: recomputed too, with the warning.
p = strata("run", sweep("conflict", pooling="cls", batch_size=4), "--archive", archive, "--resume", "--threads", "1",
           "--no-report")
assert "computing them again" in p.stderr and embedding(archive)[1] != embed_id, p.stderr
print("ok")

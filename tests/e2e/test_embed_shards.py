"""Text-model embeddings in shards (tests/mpi/tiny_text.toml: two poolings of MiniLM in 4 shards
each, one shard empty) equal the unsharded run bit for bit; a run killed between shards resumes
without recomputing the finished ones; an archive embedded unsharded resumes with shards (and one
with shards resumes with another count) without computing anything."""
import json
import os
import re
import subprocess

import h5py
import numpy as np

from strata_test import BIN, SOURCE, assert_same_datasets, datasets, minilm_or_skip, scratch, strata

MODEL = minilm_or_skip()

SWEEP = SOURCE / "tests" / "mpi" / "tiny_text.toml"
tmp = scratch("embed-shards")


def variant(shards):
    """The sweep with `embed_shards = shards`, written to the scratch folder with absolute paths."""
    text = SWEEP.read_text()
    text = text.replace('"tiny_text.jsonl"', json.dumps(str(SWEEP.parent / "tiny_text.jsonl")))
    text = text.replace('"../../models/all-MiniLM-L6-v2"', json.dumps(str(MODEL)))
    text, n = re.subn(r"embed_shards = \d+", f"embed_shards = {shards}", text)
    assert n == 1
    path = tmp / f"shards{shards}.toml"
    path.write_text(text)
    return path


def run(sweep, archive, *extra, env=None):
    """Runs the sweep; returns (computed, reused) from the closing line."""
    p = strata("run", sweep, "--archive", archive, "--threads", "1", "--no-report", *extra, env=env)
    m = re.search(r"(\d+) computed, (\d+) already in the archive, 0 failed", p.stderr)
    assert m, p.stderr
    return int(m.group(1)), int(m.group(2))


def without_shards(path):
    return {k: v for k, v in datasets(path).items() if not k.startswith("embedding_shards/")}


sharded, plain = tmp / "sharded.h5", tmp / "plain.h5"
assert run(SWEEP, sharded) == (17, 0)  # corpus, 2 x (4 shards + merge), 2 trainings, 2 strata, 2 analyses
assert run(variant(1), plain) == (9, 0)

# Every dataset of the unsharded run, the embeddings above all, is there bit for bit.
a, b = without_shards(sharded), without_shards(plain)
assert sorted(a) == sorted(b), sorted(set(a) ^ set(b))
for k in a:
    nan_ok = a[k].dtype.kind == "f"  # strata too small for a dimension hold NaN in both
    assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k], equal_nan=nan_ok), k
print(f"4 shards: {len(a)} datasets equal to the unsharded run")

# The shards: each row in exactly one, an empty one, token counts recorded.
with h5py.File(sharded, "r") as f:
    n = f["corpus/text"].shape[0]
    for name in ("minilm", "minilm-cls"):
        group = f["embedding_shards"][name]
        rows = [group[str(k)]["rows"][()] for k in range(4)]
        assert sorted(np.concatenate(rows).tolist()) == list(range(n)), name
        for k in range(4):
            data = group[str(k)]["data"][()]
            assert data.shape == (len(rows[k]), 384), (name, k, data.shape)
            assert np.array_equal(data, f["embeddings"][name]["data"][()][rows[k]]), (name, k)
            assert group[str(k)].attrs["status"] == "done"
        print(name, "shard rows:", [len(r) for r in rows],
              "padded tokens:", [int(group[str(k)].attrs["tokens"]) for k in range(4)])
        assert f["embeddings"][name].attrs["shards"] == 4
    assert min(len(f["embedding_shards/minilm-cls"][str(k)]["rows"]) for k in range(4)) == 0
with h5py.File(plain, "r") as f:
    assert "embedding_shards" not in f

# `strata plan` lists the shards under their embedding.
listing = strata("plan", SWEEP).stdout
assert "4 shards merged" in listing and "shard 4/4 /embedding_shards/minilm-cls/3" in listing, listing

# Killed in the third shard: the two finished shards are reused, the archive is the same.
killed = tmp / "killed.h5"
p = subprocess.run([BIN, "run", str(SWEEP), "--archive", str(killed), "--threads", "1", "--no-report"],
                   capture_output=True, text=True, env=dict(os.environ, STRATA_CRASH_AT="embed#3"))
assert p.returncode != 0, p.stderr
assert run(SWEEP, killed, "--resume") == (14, 3), "corpus and two shards reused"
assert_same_datasets(sharded, killed)
# The merged embedding keeps its model's provenance, whether its shards came from this run or the journal.
for archive in (sharded, killed):
    with h5py.File(archive, "r") as f:
        for name in ("minilm", "minilm-cls"):
            attrs = f["embeddings"][name].attrs
            assert attrs["model_path"].endswith("all-MiniLM-L6-v2") and attrs["architecture"] == "bert", dict(attrs)
            assert attrs["max_tokens"] == 64 and attrs["shard_seconds"] > 0, dict(attrs)
print("killed in shard 3: resumed with the corpus and two shards reused, same archive")

# The embedding's id does not depend on the shards: nothing is computed again either way.
assert run(SWEEP, plain, "--resume") == (0, 17)
with h5py.File(plain, "r") as f:
    assert "embedding_shards" not in f
assert run(variant(9), sharded, "--resume")[0] == 0
print("ok")

"""`mpirun -np N strata run` of a sweep whose text embeddings are computed in shards
(tests/mpi/tiny_text.toml: 2 x 4 shards, uneven and one empty) gives the single-process archive,
for N = 1..4; an archive begun under one rank count is finished under another."""
import json
import re

import h5py

from strata_test import (SOURCE, assert_same_datasets, minilm_or_skip, mpirun_or_skip, mpirun_strata,
                         same_under_mpirun, scratch, strata)

mpirun_or_skip()
MODEL = minilm_or_skip()

sweep = SOURCE / "tests" / "mpi" / "tiny_text.toml"
tmp = scratch("mpi-shards")


def mpirun(n, archive, extra=(), env=None):
    return mpirun_strata(n, sweep, archive, *extra, env=env)


archives = same_under_mpirun(sweep, tmp)
plain = archives[0]
for n in (1, 2, 3, 4):
    with h5py.File(archives[n], "r") as f:
        ranks = sorted({int(f["embedding_shards"][m][k].attrs["rank"]) for m in f["embedding_shards"]
                        for k in f["embedding_shards"][m]})
    print(f"mpirun -np {n}: shards ran on ranks {ranks}")

# One worker runs everything: it keeps the corpus and 8 shards until the merges, then lets go of
# the shards, which no later job reads; at most the corpus, the two embeddings, a trained model
# and the strata a run reads are left.
p = mpirun(2, tmp / "held.h5", extra=("--log-json",))
assert p.returncode == 0, p.stderr
done = [json.loads(line) for line in p.stdout.splitlines() if '"job_done"' in line]
held = [(e["kind"], e["inputs_held"]) for e in done]
assert all(n >= 0 for _, n in held), held
after_merges = max(i for i, (kind, _) in enumerate(held) if kind == "embed") + 1
assert max(n for _, n in held[:after_merges]) >= 5, held  # the corpus and a model's 4 shards, at least
assert max(n for _, n in held[after_merges:]) <= 5, held
print("inputs a worker keeps after each job:", [n for _, n in held])

# A worker killed in its first shard under 3 ranks, the sweep finished under 4: the same archive.
a = tmp / "moved.h5"
p = mpirun(3, a, env={"STRATA_CRASH_AT": "embed@2"})
assert p.returncode != 0, p.stderr
p = mpirun(4, a, extra=("--resume",))
assert p.returncode == 0, p.stderr
m = re.search(r"(\d+) computed, (\d+) already in the archive, 0 failed", p.stderr)
assert m and int(m.group(2)) >= 1, p.stderr[-3000:]
assert_same_datasets(plain, a)
print(f"killed under 3 ranks, resumed under 4: {m.group(2)} jobs reused, same archive")
print("ok")

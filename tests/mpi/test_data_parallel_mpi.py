"""`[cluster] ranks_per_train_job = 2` under mpirun: each train job runs data-parallel on two
worker ranks (MPI collectives on the CPU) and gives the single-process archive bit for bit (the
sweep's `grad_shards`, not the ranks, fix every sum); two groups run
at once when there are four workers; one worker trains alone; a member that fails, or freezes,
takes its group's attempt with it and the job is retried. Job ids never change."""
import json
import shutil
import sys

import h5py
import numpy as np

from strata_test import SOURCE, assert_same_datasets, datasets, mpirun_strata, scratch, strata

if shutil.which("mpirun") is None:
    print("mpirun not found")
    sys.exit(77)

tmp = scratch("mpi-data-parallel")
TINY = (SOURCE / "tests" / "mpi" / "tiny.toml").read_text()


def sweep(name, cluster):
    path = tmp / f"{name}.toml"
    path.write_text(TINY + "\n[cluster]\n" + cluster + "\n")
    return path


def mpirun(n, sweep_file, archive, env=None):
    return mpirun_strata(n, sweep_file, archive, "--log-json", env=env, timeout=120)


def events(p):
    return [json.loads(line) for line in p.stdout.splitlines()]


def attrs(archive, kind):
    with h5py.File(archive, "r") as f:
        return {name: dict(g.attrs) for name, g in f[kind].items()}


def check_done(archive, ranks):
    """Every job done; every train job ran on `ranks` ranks, the others on one."""
    for kind in ("corpus", "embeddings", "trained", "runs"):
        with h5py.File(archive, "r") as f:
            objs = [f[kind]] if kind == "corpus" else list(f[kind].values())
            assert objs and all(o.attrs["status"] == "done" for o in objs), kind
            want = ranks if kind == "trained" else 1
            assert all(o.attrs["ranks"] == want for o in objs), (kind, [o.attrs["ranks"] for o in objs])


k2 = sweep("k2", "ranks_per_train_job = 2")

# One process: the key changes nothing, not even a bit.
reference = tmp / "reference.h5"
strata("run", SOURCE / "tests" / "mpi" / "tiny.toml", "--archive", reference, "--threads", "1", "--no-report")
plain = tmp / "plain.h5"
strata("run", k2, "--archive", plain, "--threads", "1", "--no-report")
assert_same_datasets(reference, plain)
check_done(plain, 1)
print("one process: ranks_per_train_job = 2 gives the archive of ranks_per_train_job = 1 bit for bit")

# Two workers, one group of two; three workers, one group of three: every train job
# data-parallel, same ids, and the single-process archive bit for bit (tiny.toml: 4 shards).
for n, ranks, sweep_file in ((3, 2, k2), (4, 3, sweep("k3", "ranks_per_train_job = 3"))):
    a = tmp / f"np{n}-k{ranks}.h5"
    p = mpirun(n, sweep_file, a)
    assert p.returncode == 0, (p.returncode, p.stderr)
    check_done(a, ranks)
    assert all(t["rank"] == 1 for t in attrs(a, "trained").values())  # the group's first member reports
    count = assert_same_datasets(plain, a)
    print(f"mpirun -np {n}, {ranks} ranks per train job: {count} datasets equal to one process, bit for bit")

# Four workers: two groups train at once. Heartbeats every 5 ms fly during the collectives.
a = tmp / "np5.h5"
p = mpirun(5, sweep("k2-beats", "ranks_per_train_job = 2\nheartbeat_s = 0.005\nheartbeat_timeout_s = 30"), a)
assert p.returncode == 0, (p.returncode, p.stderr)
check_done(a, 2)
ev = events(p)
running, most = set(), 0
for e in ev:
    if e.get("kind") == "train" and e["event"] == "job_started":
        running.add(e["job"])
        most = max(most, len(running))
    elif e.get("kind") == "train" and e["event"] in ("job_done", "job_failed"):
        running.discard(e["job"])
assert most == 2, most
assert {e["rank"] for e in ev if e["event"] == "job_started" and e["kind"] == "train"} <= {1, 2, 3, 4}
assert_same_datasets(plain, a)
print("mpirun -np 5: two data-parallel groups ran at once, same results")

# One worker: the job takes the ranks there are.
a = tmp / "np2.h5"
p = mpirun(2, k2, a)
assert p.returncode == 0, (p.returncode, p.stderr)
check_done(a, 1)
assert_same_datasets(plain, a)
print("mpirun -np 2: one worker trains alone, bit for bit the single-process archive")

# A member fails (rank 2, every train job it is in): its group's attempt fails as a whole, no
# member is left waiting, and the retry waits for two ranks where the job has not failed.
a = tmp / "fail-rank2.h5"
p = mpirun(4, k2, a, env={"STRATA_INJECT_FAILURE": "train@2"})
assert p.returncode == 0, (p.returncode, p.stderr)
ev = events(p)
failed = [e for e in ev if e["event"] == "job_failed"]
assert failed and all(e["kind"] == "train" and not e["final"] for e in failed), failed
# Only rank 2's own error is reported; the member it stopped is not blamed, nor avoided.
assert all(e["error"].startswith("rank 2: injected failure") and "stopped" not in e["error"] for e in failed), failed
check_done(a, 2)
assert_same_datasets(plain, a)
print(f"a failing member: {len(failed)} group attempts failed together, retried elsewhere, same results")

# Every member fails: the job is recorded failed with one message, the sweep goes on, exit 1.
a = tmp / "fail-all.h5"
p = mpirun(3, k2, a, env={"STRATA_INJECT_FAILURE": "train"})
assert p.returncode == 1, (p.returncode, p.stderr)
for t in attrs(a, "trained").values():
    assert t["status"] == "failed" and t["error"].startswith("ranks 1, 2: injected failure"), t
print("a train job failing on every member: recorded failed, exit code 1")

# A member freezes (SIGSTOP, no heartbeats): the group is given up, both ranks with it (the
# other one waits in a collective), and the job is retried on the one worker left, alone.
a = tmp / "hang.h5"
p = mpirun(4, sweep("k2-hang", "ranks_per_train_job = 2\nheartbeat_s = 0.2\nheartbeat_timeout_s = 2"), a,
           env={"STRATA_INJECT_FAILURE": "hang:train@2"})
assert p.returncode == 0, (p.returncode, p.stderr)
ev = events(p)
failed = [e for e in ev if e["event"] == "job_failed"]
assert len(failed) == 1 and failed[0]["rank_lost"], failed
assert "rank 2 silent for" in failed[0]["error"] and "ranks 1, 2 (its data-parallel group)" in failed[0]["error"], \
    failed[0]["error"]
later = [e for e in ev if e["event"] == "job_started" and e["t"] > failed[0]["t"]]
assert later and all(e["rank"] == 3 for e in later), later
trained = attrs(a, "trained")
assert all(t["status"] == "done" for t in trained.values())
assert sorted(t["ranks"] for t in trained.values()) == [1] * 8, trained
print("a frozen member: its group given up, the job retried on the last worker alone")
print("ok")

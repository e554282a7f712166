"""`mpirun -np N strata run` gives the single-process archive, for N = 1..4; failing jobs are
retried on another rank or recorded as failed while the sweep goes on."""

import h5py

from strata_test import SOURCE, assert_same_datasets, mpirun_or_skip, mpirun_strata, same_under_mpirun, scratch

mpirun_or_skip()

sweep = SOURCE / "tests" / "mpi" / "tiny.toml"
tmp = scratch("mpi-sweep")


def mpirun(n, archive, env=None, extra=()):
    return mpirun_strata(n, sweep, archive, *extra, env=env)


plain = same_under_mpirun(sweep, tmp)[0]

# A job kind that fails everywhere: recorded as failed with its message, the rest goes on, exit 1.
a = tmp / "fail-always.h5"
p = mpirun(3, a, env={"STRATA_INJECT_FAILURE": "analysis"})
assert p.returncode == 1, (p.returncode, p.stderr)
with h5py.File(a, "r") as f:
    runs = list(f["runs"])
    assert runs and all(f["runs"][r].attrs["status"] == "failed" for r in runs)
    assert "injected failure" in f["runs"][runs[0]].attrs["error"]
    assert all(f["trained"][t].attrs["status"] == "done" for t in f["trained"])
print("a job that always fails: recorded as failed, exit code 1")

# Fails on rank 1 only: retried elsewhere, the archive equals the plain run.
a = tmp / "fail-once.h5"
p = mpirun(3, a, env={"STRATA_INJECT_FAILURE": "train@1"})
assert p.returncode == 0, (p.returncode, p.stderr)
assert "failed on rank 1" in p.stderr, p.stderr
assert_same_datasets(plain, a)
print("a job that fails on one rank: retried on another, same archive")

# Resume under MPI reuses everything.
p = mpirun(2, tmp / "np2.h5", extra=("--resume",))
assert p.returncode == 0 and "0 computed" in p.stderr, p.stderr
print("ok")

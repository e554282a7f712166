"""`mpirun -np 2 strata run` killed (SIGKILL, no cleanup) at a crash point of STRATA_CRASH_AT: the
coordinator (rank 0) while it commits a result, the worker (rank 1) inside an embedding, a training
and an analysis. The run dies; every HDF5 file left opens with h5py; `strata run --resume`, plainly
and under mpirun, reuses every job the journal holds and ends with the uninterrupted run's archive."""
from crash_support import (assert_readable, assert_same_archive, copy_state, crash_setup, journal_entries, left_behind,
                           resumed_ok, run)

tmp, sweep, reference, JOBS = crash_setup("crash-mpi")

for spec in ("journal@0#5", "merge@0#6", "done@0#4", "embed@1", "train@1#2", "analysis@1#3"):
    folder = tmp / spec.replace("#", "-").replace("@", "-")
    folder.mkdir()
    archive = folder / "a.h5"
    p = run(sweep, archive, np_=2, crash_at=spec)
    point, rank = spec.split("#")[0].split("@")
    assert p.returncode != 0, (spec, p.stdout[-2000:], p.stderr[-2000:])
    assert f"killing rank {rank} at '{point}'" in p.stderr, p.stderr[-2000:]
    assert f"rank {rank}" in p.stderr and "signal 9" in p.stderr, p.stderr[-2000:]
    files = left_behind(folder)
    assert_readable(files)
    finished = journal_entries(archive)
    assert 0 < finished < JOBS, (spec, finished)
    copy = copy_state(archive, tmp / (folder.name + "-plain"))
    for target, np_ in ((archive, 2), (copy, None)):
        computed, reused = resumed_ok(sweep, target, np_)
        assert (computed, reused) == (JOBS - finished, finished), (spec, np_, computed, reused, finished)
        count = assert_same_archive(reference, target)
    print(f"mpirun -np 2 killed at {spec}: {len(files)} HDF5 files left, all readable; {finished} jobs reused "
          f"by --resume (mpirun -np 2 and plain); {count} datasets equal to the uninterrupted run")
print("ok")

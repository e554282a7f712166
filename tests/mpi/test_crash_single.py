"""A single-process sweep killed (SIGKILL, no cleanup) at each crash point of STRATA_CRASH_AT,
mid-sweep: every HDF5 file it leaves opens with h5py, and `strata run --resume`, plainly and under
`mpirun -np 2`, reuses every job the journal holds and ends with the uninterrupted run's archive."""
import signal

import h5py

from crash_support import (assert_readable, assert_same_archive, copy_state, crash_setup, journal_entries, left_behind,
                           resumed_ok, run, write_sweep)

tmp, sweep, reference, JOBS = crash_setup("crash-single")

# Point and occurrence: each one falls in the middle of the sweep, with jobs finished before it.
for spec in ("embed", "train#2", "analysis#3", "journal#5", "merge#6", "done#4"):
    folder = tmp / spec.replace("#", "-")
    folder.mkdir()
    archive = folder / "a.h5"
    p = run(sweep, archive, crash_at=spec)
    assert p.returncode == -signal.SIGKILL, (spec, p.returncode, p.stderr[-2000:])
    assert f"killing rank 0 at '{spec.split('#')[0]}'" in p.stderr, p.stderr[-2000:]
    files = left_behind(folder)
    assert_readable(files)
    finished = journal_entries(archive)
    assert 0 < finished < JOBS, (spec, finished)
    copy = copy_state(archive, tmp / (folder.name + "-mpi"))
    for target, np_ in ((archive, None), (copy, 2)):
        computed, reused = resumed_ok(sweep, target, np_)
        assert (computed, reused) == (JOBS - finished, finished), (spec, np_, computed, reused, finished)
        count = assert_same_archive(reference, target)
    print(f"killed at {spec}: {len(files)} HDF5 files left, all readable; {finished} jobs reused by "
          f"--resume (plain and mpirun -np 2); {count} datasets equal to the uninterrupted run")

# Results committed in groups (the default): killed while merging one into the archive, a resume
# reuses every result of every group that reached the journal.
grouped = write_sweep(tmp, commit_interval_s=None, name="grouped.toml")
grouped_reference = tmp / "grouped-reference.h5"
assert run(grouped, grouped_reference).returncode == 0
folder = tmp / "grouped"
folder.mkdir()
archive = folder / "a.h5"
p = run(grouped, archive, crash_at="merge#6")
assert p.returncode == -signal.SIGKILL, p.stderr[-2000:]
assert_readable(left_behind(folder))
finished = journal_entries(archive)
assert 6 <= finished <= JOBS, finished  # the group being merged may hold every result
assert resumed_ok(grouped, archive) == (JOBS - finished, finished)
count = assert_same_archive(grouped_reference, archive)
print(f"grouped commits, killed at merge#6: {finished} jobs reused, {count} datasets equal to the uninterrupted run")

# An archive torn by a crash (cut short, so HDF5 cannot open it): --resume rebuilds it from the journal.
folder = tmp / "torn"
folder.mkdir()
archive = folder / "a.h5"
assert run(sweep, archive, crash_at="merge#6").returncode == -signal.SIGKILL
with open(archive, "r+b") as f:
    f.truncate(archive.stat().st_size // 2)
try:
    h5py.File(archive, "r").close()
    raise AssertionError(f"{archive}: still opens after being cut short")
except OSError:
    pass
p = run(sweep, archive, resume=True)
assert p.returncode == 0 and "rebuilding it from" in p.stderr, (p.returncode, p.stderr[-2000:])
assert "7 computed, 6 already in the archive" in p.stderr, p.stderr[-2000:]
count = assert_same_archive(reference, archive)
print(f"torn archive: rebuilt from the journal by --resume, {count} datasets equal to the uninterrupted run")
print("ok")

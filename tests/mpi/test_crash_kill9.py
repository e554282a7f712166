"""An external kill -9 at a random (seeded) moment of `mpirun -np 2 strata run`: of mpirun's process
group, of the coordinator (rank 0) alone, of the worker (rank 1) alone. Every archive and journal
entry left opens with h5py (a journal file still under its temporary name may be torn; --resume
ignores it), and `strata run --resume` ends with the uninterrupted run's archive."""
import os
import random
import signal
import subprocess
import time

from crash_support import (assert_readable, assert_same_archive, command, environment, journal_entries,
                           require_tools, resumed_ok, run, write_sweep)
from strata_test import scratch

require_tools()
tmp = scratch("crash-kill9")
sweep = write_sweep(tmp, epochs=40, texts_per_source=40, commit_interval_s=None)  # results grouped
reference = tmp / "reference.h5"
p = run(sweep, reference)
assert p.returncode == 0, p.stderr


def ranks(mpirun):
    """{world rank: pid} of the processes this mpirun started (each in its own process group)."""
    out = {}
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != mpirun.pid:
                continue
            with open(f"/proc/{d}/environ", "rb") as f:
                env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
        except (OSError, ValueError):
            continue
        if b"OMPI_COMM_WORLD_RANK" in env:
            out[int(env[b"OMPI_COMM_WORLD_RANK"])] = int(d)
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start(archive):
    """mpirun in a session of its own; returns it, its ranks' pids and when the sweep's first
    result reached the journal."""
    log = open(archive.parent / (archive.name + ".log"), "w")
    proc = subprocess.Popen(command(sweep, archive, np_=2), env=environment(), stdout=log, stderr=log,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while journal_entries(archive) == 0:
        assert proc.poll() is None and time.monotonic() < deadline, f"{archive}: the sweep did not start"
        time.sleep(0.01)
    return proc, ranks(proc), time.monotonic()


# The uninterrupted run, timed from its first journal entry: the window the kills fall in.
archive = tmp / "uninterrupted.h5"
proc, _, t0 = start(archive)
assert proc.wait(timeout=300) == 0
window = time.monotonic() - t0
assert_same_archive(reference, archive)

rng = random.Random(20240607)
interrupted = 0
for round_ in range(2):
    for target in ("group", "coordinator", "worker"):
        folder = tmp / f"{target}-{round_}"
        folder.mkdir()
        archive = folder / "a.h5"
        proc, pids, _ = start(archive)
        assert set(pids) == {0, 1}, pids
        delay = rng.uniform(0.05, 0.9) * window
        time.sleep(delay)
        if target == "group":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            try:
                os.kill(pids[0 if target == "coordinator" else 1], signal.SIGKILL)
            except ProcessLookupError:
                pass
        code = proc.wait(timeout=120)
        deadline = time.monotonic() + 60
        while any(alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        survivors = [pid for pid in pids.values() if alive(pid)]
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)
        assert not survivors, f"ranks {survivors} outlived the kill of {target}"
        finished = journal_entries(archive)
        if code == 0:
            print(f"kill of {target} after {delay:.2f} s came after the sweep had finished")
        else:
            interrupted += 1
        assert_readable(sorted(folder.rglob("*.h5")))
        np_ = 2 if round_ == 0 else None
        computed, reused = resumed_ok(sweep, archive, np_)
        assert reused == finished, (target, computed, reused, finished)
        count = assert_same_archive(reference, archive)
        print(f"kill -9 of {target} {delay:.2f} s into the sweep (exit {code}): {finished} jobs in the journal, "
              f"reused by --resume ({'mpirun -np 2' if np_ else 'plain'}); {count} datasets equal to the "
              f"uninterrupted run")
assert interrupted >= 4, f"only {interrupted} of 6 kills fell inside the sweep"
print("ok")

"""A whole worker host killed in mid-run: SIGKILL to every process on node2 (its MPI daemon and
its strata rank). OpenMPI learns it at once (the daemon's connection closes) and ends the whole
job, the coordinator with it; what was committed stays: every file the run left is readable,
and `--resume` on the same three hosts ends with the archive of one process, bit for bit
(attributes that record when and where aside), recomputing only what had not reached the
journal."""
import subprocess
import time

import hosts
from crash_support import assert_readable, left_behind
from host_runs import (JOBS, Watched, assert_same_archive, finished, grid_sweep, journal_entries, reference, run_argv,
                       wait_until)
from strata_test import scratch

hosts.require()
tmp = scratch("cluster-host-killed")
sweep = grid_sweep(tmp, "grid", "heartbeat_s = 0.2\nheartbeat_timeout_s = 2\ncommit_interval_s = 0\n",
                   epochs=40, points=150)
single = reference(sweep, tmp / "single.h5")

with hosts.Hosts(3) as h:
    archive = tmp / "killed.h5"
    run = Watched(h.mpirun_popen([1, 1, 1], run_argv(sweep, archive), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True))
    wait_until(lambda: journal_entries(archive) >= 4 or run.p.poll() is not None, 60, "a training in the journal")
    assert run.p.poll() is None, "the sweep ended before the kill"
    killed = h.kill_host(2)
    t_kill = time.monotonic()
    code, out, err = run.wait(timeout=60)
    stopped = time.monotonic() - t_kill
    assert killed >= 2, f"only {killed} processes on node2"  # orted and the rank at least
    assert code != 0, "the job went on without node2"
    assert_readable(left_behind(tmp))
    kept = journal_entries(archive)
    assert 4 <= kept < JOBS, kept
    print(f"node2 killed ({killed} processes): mpirun ended the job {stopped:.1f} s later with exit code {code}, "
          f"{kept} of {JOBS} results in the journal")

    resumed = h.mpirun([1, 1, 1], run_argv(sweep, archive, "--resume"), timeout=90)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

computed, reused, failed = finished(resumed.stdout)
assert failed == 0 and reused >= kept and 0 < computed, (computed, reused, kept)
count = assert_same_archive(single, archive)
print(f"--resume on node0..node2: {computed} computed, {reused} reused; {count} datasets as one process writes them")
print("ok")

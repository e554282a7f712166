"""A worker host's link cut in mid-run (`ip link set strata0 down` on node2: every packet to and
from it is lost, nothing tells the others), with heartbeats every 0.2 s and a 5 s timeout.

1. One worker on node1, one on node2: the coordinator finds rank 2 silent within the
   heartbeat timeout, gives it up, and finishes the sweep on node1; the archive is complete
   and, bit for bit, the single-process archive (a --resume finds nothing to do). mpirun
   returns once TCP on node0 gives up on node2's daemon (tcp_retries2 = 4 here: ~6 s).
2. Data-parallel groups across node1 and node2 (`ranks_per_train_job = 2`): cutting node2
   gives up the whole group (node1's member waits in a collective for node2's), so no worker is
   left. The coordinator stops with its journal intact and exit code 1; `--resume` on another
   layout (node0 and node1 only) finishes it. The corpus and embeddings are bit for bit the
   single-process archive, the trainings (some data-parallel, some on one rank) within float
   rounding (rtol 1e-4)."""
import subprocess
import time

import hosts
from crash_support import assert_readable, left_behind
from host_runs import (JOBS, Watched, done_count, assert_same_archive, assert_same_up_to_training_rounding, events,
                       finished, grid_sweep, journal_entries, reference, run_argv, trained_ranks, wait_until)
from strata_test import scratch

hosts.require()
tmp = scratch("cluster-link-down")
TIMEOUT_S = 5
beats = f"heartbeat_s = 0.2\nheartbeat_timeout_s = {TIMEOUT_S}\ncommit_interval_s = 0\n"
sweep = grid_sweep(tmp, "grid", beats, epochs=40, points=150)
sweep_dp = grid_sweep(tmp, "grid-dp", beats + "ranks_per_train_job = 2\n", epochs=40, points=150)
single = reference(sweep, tmp / "single.h5")


def lost_event(e):
    return e["event"] == "job_failed" and e.get("rank_lost")


def cut_after_trainings(h, archive, sweep_file, trainings):
    """Starts the sweep on node0..node2, cuts node2 once `trainings` results are in the journal
    (corpus and 2 embeddings first); returns (watched run, time of the cut)."""
    run = Watched(h.mpirun_popen([1, 1, 1], run_argv(sweep_file, archive), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True))
    wait_until(lambda: journal_entries(archive) >= 3 + trainings or run.p.poll() is not None, 60,
               f"{trainings} trainings in the journal")
    assert run.p.poll() is None, "the sweep ended before the cut"
    h.link_down(2)
    return run, time.monotonic()


with hosts.Hosts(3, tcp_retries2=4) as h:
    # 1. The sweep finishes on the host that is left.
    archive = tmp / "cut.h5"
    run, cut = cut_after_trainings(h, archive, sweep, 3)
    code, out, err = run.wait(timeout=90)
    ended = time.monotonic() - cut
    lost = run.first(lost_event)
    assert lost, (code, err[-3000:])
    noticed = lost[0] - cut
    assert "rank 2 silent for" in lost[1]["error"], lost[1]
    assert noticed < TIMEOUT_S + 1.5, f"rank 2 given up {noticed:.1f} s after the cut (timeout {TIMEOUT_S} s)"
    evs = events(out)
    later = [e for e in evs if e["event"] == "job_started" and e["t"] > lost[1]["t"]]
    assert later and all(e["rank"] == 1 for e in later), later
    assert code == 0, (code, err[-3000:])
    assert done_count(archive) == JOBS, done_count(archive)
    count = assert_same_archive(single, archive)
    print(f"node2 cut: given up after {noticed:.1f} s (timeout {TIMEOUT_S} s), {len(later)} jobs ran on node1 "
          f"after it, the archive is the single-process one ({count} datasets); mpirun returned "
          f"{ended:.1f} s after the cut")
    resumed = h.mpirun([1, 1, 0], run_argv(sweep, archive, "--resume"), timeout=60)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert finished(resumed.stdout)[0::2] == (0, 0), finished(resumed.stdout)
    h.link_up(2)

    # 2. The data-parallel group spans the cut: no worker left, the run stops.
    archive = tmp / "cut-dp.h5"
    run, cut = cut_after_trainings(h, archive, sweep_dp, 1)
    code, out, err = run.wait(timeout=90)
    lost = run.first(lost_event)
    assert lost, (code, err[-3000:])
    noticed = lost[0] - cut
    assert "(its data-parallel group)" in lost[1]["error"], lost[1]
    assert noticed < TIMEOUT_S + 1.5, f"group given up {noticed:.1f} s after the cut (timeout {TIMEOUT_S} s)"
    assert code == 1, (code, err[-3000:])
    assert "every worker rank was given up before the sweep finished" in err, err[-3000:]
    assert done_count(archive) < JOBS, "the sweep cannot have finished without workers"
    assert_readable(left_behind(tmp))
    kept = journal_entries(archive)
    print(f"node2 cut under data-parallel groups: given up after {noticed:.1f} s, the run stopped with exit "
          f"code 1 and {kept} results in the journal")

    resumed = h.mpirun([1, 1, 0], run_argv(sweep_dp, archive, "--resume"), timeout=90)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

assert done_count(archive) == JOBS, done_count(archive)
ranks = trained_ranks(archive)
assert 2 in ranks and 1 in ranks, ranks  # trained before the cut by the group, after it alone
exact, close = assert_same_up_to_training_rounding(single, archive)
print(f"resumed on node0 + node1: {exact} datasets bit for bit, {close} within float rounding; "
      f"trainings on {ranks.count(2)} groups of 2 and {ranks.count(1)} single ranks")
print("ok")

"""A bad wire to one worker host: node2's traffic rate-limited and 20% of its packets lost, both
ways, from mid-run on (tc netem where the kernel has it; otherwise a tc token bucket and
nftables dropping packets at random: hosts.Hosts.slow_wire). TCP resends what is lost, so
nothing is lost to strata, only time: heartbeats arrive late but within heartbeat_timeout_s,
no rank is given up, and the archive is the single-process one bit for bit (attributes that
record when and where aside). The run's time with and without the bad wire is printed."""
import subprocess
import time

import hosts
from host_runs import (JOBS, Watched, done_count, assert_same_archive, events, grid_sweep, journal_entries, reference,
                       run_argv, wait_until)
from strata_test import scratch

hosts.require("tc")
tmp = scratch("cluster-slow-wire")
# 20% loss both ways: TCP's doubling retransmission timeout can hold one heartbeat back for
# several seconds (about 10 s was seen with two cores busy), so the timeout leaves room for that.
sweep = grid_sweep(tmp, "grid", "heartbeat_s = 0.2\nheartbeat_timeout_s = 30\ncommit_interval_s = 0\n",
                   epochs=20, points=100)
single = reference(sweep, tmp / "single.h5")

with hosts.Hosts(3) as h:
    start = time.monotonic()
    clean = h.mpirun([1, 1, 1], run_argv(sweep, tmp / "clean.h5"), timeout=90)
    clean_s = time.monotonic() - start
    assert clean.returncode == 0, clean.stderr[-3000:]

    archive = tmp / "slow.h5"
    start = time.monotonic()
    run = Watched(h.mpirun_popen([1, 1, 1], run_argv(sweep, archive), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True))
    wait_until(lambda: journal_entries(archive) >= 3 or run.p.poll() is not None, 60, "the embeddings in the journal")
    how = h.slow_wire(2, delay_ms=100, loss_percent=20, rate="1mbit")
    code, out, err = run.wait(timeout=90)
    slow_s = time.monotonic() - start

assert code == 0, (code, err[-3000:])
evs = events(out)
assert not [e for e in evs if e["event"] == "job_failed"], [e for e in evs if e["event"] == "job_failed"]
assert {e["rank"] for e in evs if e["event"] == "job_started" and e["kind"] == "train"} == {1, 2}
assert done_count(archive) == JOBS
count = assert_same_archive(single, archive)
print(f"node2 behind a bad wire ({how}: 1 mbit/s, 20% loss): no rank given up, {count} datasets as one process "
      f"writes them; {slow_s:.1f} s against {clean_s:.1f} s on a clean wire")
print("ok")

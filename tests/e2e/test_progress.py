"""How `strata run` tells its progress: --log-json gives one JSON object per event on stdout,
--quiet prints nothing when nothing goes wrong, a terminal gets the live display, and a pipe
the log lines and summary tables as before."""
import json
import os
import pty
import subprocess
import threading

from strata_test import BIN, SOURCE, scratch, strata

sweep = SOURCE / "tests" / "mpi" / "tiny.toml"
tmp = scratch("progress")


def events(stdout):
    lines = stdout.splitlines()
    assert lines, "no output"
    return [json.loads(line) for line in lines]  # every line is one JSON object


def check_consistent(ev):
    assert ev[0]["event"] == "run_started" and ev[-1]["event"] == "run_finished", (ev[0], ev[-1])
    assert [e["event"] for e in ev].count("run_finished") == 1
    total = ev[0]["total"]
    assert sum(ev[0]["jobs"].values()) == total
    running, done = {}, 0
    for e in ev[1:-1]:
        if e["event"] == "job_started":
            assert e["job"] not in running, e
            running[e["job"]] = e["rank"]
        elif e["event"] in ("job_done", "job_failed") and e["rank"] is not None:
            assert running.pop(e["job"]) == e["rank"], e
        if e["event"] in ("job_done", "job_reused") or (e["event"] == "job_failed" and e["final"]):
            done += 1
            assert e["done"] == done and e["total"] == total, (e, done)
    assert not running and done == total, (running, done, total)
    kinds = {}
    for e in ev:
        if e["event"] in ("job_done", "job_reused") or (e["event"] == "job_failed" and e["final"]):
            kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    assert kinds == ev[0]["jobs"], (kinds, ev[0]["jobs"])
    times = [e["t"] for e in ev]
    assert times == sorted(times)
    return total


# --log-json on a fresh archive: every job computed, in a consistent order.
archive = tmp / "json.h5"
p = strata("run", sweep, "--archive", archive, "--threads", "1", "--no-report", "--log-json")
ev = events(p.stdout)
total = check_consistent(ev)
assert ev[-1]["computed"] == total and ev[-1]["reused"] == 0 and ev[-1]["failed"] == 0, ev[-1]
assert "[1/" not in p.stderr and "jobs:" not in p.stderr, p.stderr
print(f"--log-json: {len(ev)} events for {total} jobs")

# --resume: every job reused.
p = strata("run", sweep, "--archive", archive, "--threads", "1", "--no-report", "--log-json", "--resume")
ev = events(p.stdout)
check_consistent(ev)
assert [e["event"] for e in ev[1:-1]] == ["job_reused"] * total, ev
assert ev[-1]["reused"] == total and ev[-1]["computed"] == 0, ev[-1]

# Failing jobs: each attempt's error, and the run goes on.
p = strata("run", sweep, "--archive", tmp / "fail.h5", "--threads", "1", "--no-report", "--log-json", check=False,
           env={"STRATA_INJECT_FAILURE": "analysis"})
assert p.returncode == 1, p.stderr
ev = events(p.stdout)
check_consistent(ev)
failed = [e for e in ev if e["event"] == "job_failed"]
final = [e for e in failed if e["final"]]
assert len(final) == ev[0]["jobs"]["analysis"] == ev[-1]["failed"], ev[-1]
assert all("injected failure" in e["error"] and e["attempt"] == e["attempts"] == 2 for e in final), final
assert "injected failure" in p.stderr  # warnings still go to stderr
print("failed jobs: job_failed events with the error and the attempt")

# --quiet: nothing at all when all goes well.
p = strata("run", sweep, "--archive", tmp / "quiet.h5", "--threads", "1", "--no-report", "--quiet")
assert p.stdout == "" and p.stderr == "", (p.stdout, p.stderr)

# A pipe: the log lines and the summary tables, as always.
p = strata("run", sweep, "--archive", tmp / "plain.h5", "--threads", "1", "--no-report")
assert f"[{total}/{total}]" in p.stderr and f"{total} jobs: {total} computed" in p.stderr, p.stderr
assert "\x1b[" not in p.stderr
assert "Table 1" in p.stdout, p.stdout

# A terminal: the live display, redrawn in place, ending with the run's summary line.
master, slave = pty.openpty()
chunks = []


def read_all():
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the other end closed
            return
        if not data:
            return
        chunks.append(data)


reader = threading.Thread(target=read_all)
reader.start()
e = dict(os.environ, OMP_NUM_THREADS="1", COLUMNS="120")
p = subprocess.run([BIN, "run", str(sweep), "--archive", str(tmp / "live.h5"), "--threads", "1", "--no-report"],
                   stdout=subprocess.PIPE, stderr=slave, env=e, timeout=120, text=True)
os.close(slave)
reader.join(timeout=30)
os.close(master)
screen = b"".join(chunks).decode()
assert p.returncode == 0, screen
assert "\x1b[" in screen and "jobs/min" in screen and "ETA" in screen, screen
for kind in ("corpus", "embed", "train", "analysis"):
    assert kind in screen, (kind, screen)
assert f"{total} jobs: {total} computed" in screen, screen
assert "[1/" not in screen  # no log lines under the display
assert "Table 1" in p.stdout
print("a terminal: the live display")
print("ok")

"""Shared pieces of the multi-host tests: the sweeps they run, strata's command line, the
single-process reference archive, reading run events and comparing archives."""
import json
import time

import h5py
import numpy as np

from hosts import IFACE
import crash_support
from crash_support import journal_entries  # noqa: F401 (the tests take it from here)
from strata_test import BIN, SOURCE, datasets, strata

TINY = (SOURCE / "tests" / "mpi" / "tiny.toml").read_text()
TINY_TEXT = SOURCE / "tests" / "mpi" / "tiny_text.toml"


# Attributes that record when, where or how long: those crash_support knows, and the compute
# time of an embedding's shards (summed over the ranks that ran them).
VOLATILE_ATTRS = crash_support.VOLATILE_ATTRS | {"shard_seconds"}


def assert_same_archive(a, b):
    """Same groups, links, attributes (volatile ones aside) and datasets, bit for bit."""
    return crash_support.assert_same_archive(a, b, VOLATILE_ATTRS)


def grid_sweep(folder, name, cluster="", epochs=None, points=None):
    """tests/mpi/tiny.toml (2 embeddings, 8 trainings, 16 analyses) with a [cluster] section;
    `epochs` and `points` (per stratum) make each training longer, for faults in mid-run."""
    text = TINY
    for key, default, value in (("epochs", 3, epochs), ("points", 60, points)):
        if value is not None:
            assert f"{key} = {default}\n" in text, f"tests/mpi/tiny.toml has no '{key} = {default}'"
            text = text.replace(f"{key} = {default}\n", f"{key} = {value}\n")
    path = folder / f"{name}.toml"
    path.write_text(text + "\n[cluster]\n" + cluster + "\n")
    return path


def run_argv(sweep, archive, *extra):
    return [BIN, "run", sweep, "--archive", archive, "--threads", "1", "--no-report", "--log-json", *extra]


def reference(sweep, archive):
    """The archive of one process running the whole sweep."""
    strata("run", sweep, "--archive", archive, "--threads", "1", "--no-report")
    return archive


def events(stdout):
    out = []
    for line in stdout.splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass  # mpirun's own lines
    return out


def finished(stdout):
    """(computed, reused, failed) of the run's run_finished event."""
    e = [e for e in events(stdout) if e["event"] == "run_finished"]
    assert e, stdout[-2000:]
    return e[-1]["computed"], e[-1]["reused"], e[-1]["failed"]


def ranks_that_ran(evs):
    return {e["rank"] for e in evs if e["event"] == "job_started"}


def wait_until(condition, timeout, what, poll=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    raise AssertionError(f"not within {timeout} s: {what}")


JOBS = 1 + 2 + 8 + 16  # of grid_sweep: the corpus, 2 embeddings, 8 trainings, 16 analyses


def done_count(archive):
    """How many of the archive's jobs are done (corpus, embeddings, trained models, runs)."""
    with h5py.File(archive, "r") as f:
        objs = [f["corpus"]] if "corpus" in f else []
        objs += [g for kind in ("embeddings", "trained", "runs") if kind in f for g in f[kind].values()]
        return sum(o.attrs.get("status") == "done" for o in objs)


def assert_same_up_to_training_rounding(a, b):
    """Exact where the maths is the same, within float rounding where data-parallel training
    adds the same gradients in another order. /corpus and /embeddings: bit for bit. Under
    /trained and /runs (a trained model and the analyses of its outputs): floats within rtol
    1e-4 / atol 1e-5, integers (supports, argmax of the gating, counts) equal in 99% of the
    entries at least (two near-tied values may swap), text exact. Returns (exact, close):
    how many datasets were compared each way."""
    da, db = datasets(a), datasets(b)
    assert sorted(da) == sorted(db), f"different datasets: {sorted(set(da) ^ set(db))}"
    exact = close = 0
    for k in da:
        x, y = np.asarray(da[k]), np.asarray(db[k])
        trained = k.startswith(("trained/", "runs/"))
        if x.dtype.kind in "fiub":
            assert x.shape == y.shape and x.dtype == y.dtype, k
        if not trained or x.dtype.kind not in "fiub":
            if x.dtype.kind in "fiub":
                assert np.array_equal(x, y, equal_nan=True), f"{k} differs"
            else:
                assert np.array_equal(np.asarray(x, dtype=object), np.asarray(y, dtype=object)), f"{k} differs"
            exact += 1
        elif x.dtype.kind == "f":
            assert np.allclose(x, y, rtol=1e-4, atol=1e-5, equal_nan=True), \
                f"{k}: max difference {np.nanmax(np.abs(x - y))}"
            close += 1
        else:
            assert x.size == 0 or np.mean(x == y) >= 0.99, f"{k}: {np.mean(x != y):.2%} of entries differ"
            close += 1
    return exact, close


def trained_ranks(archive):
    with h5py.File(archive, "r") as f:
        return sorted(int(g.attrs["ranks"]) for g in f["trained"].values())


def wire_bytes(hosts, i):
    """Bytes host i received and sent on its test interface."""
    stats = f"/sys/class/net/{IFACE}/statistics"
    p = hosts.run(i, ["cat", f"{stats}/rx_bytes", f"{stats}/tx_bytes"])
    rx, tx = (int(v) for v in p.stdout.split())
    return rx, tx


class Watched:
    """A running command (stdout and stderr pipes) whose stdout lines are kept with the time
    each arrived, so a test can tell when the coordinator said something (e.g. that it gave a
    rank up)."""

    def __init__(self, popen):
        import threading

        self.p = popen
        self.lines = []  # (time.monotonic(), line)
        self.errors = []
        self._readers = [threading.Thread(target=self._read, daemon=True),
                         threading.Thread(target=lambda: self.errors.extend(popen.stderr), daemon=True)]
        for r in self._readers:
            r.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append((time.monotonic(), line))

    def first(self, predicate):
        """(arrival time, event) of the first JSON event that satisfies `predicate`, or None."""
        for t, line in list(self.lines):
            for e in events(line):
                if predicate(e):
                    return t, e
        return None

    def wait(self, timeout):
        """Waits for the command to end; returns (exit code, stdout, stderr)."""
        self.p.wait(timeout=timeout)
        for r in self._readers:
            r.join(timeout=5)
        return self.p.returncode, "".join(line for _, line in self.lines), "".join(self.errors)

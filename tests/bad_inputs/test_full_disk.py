"""A disk that fills, and a journal that was damaged: what they cost.

A process whose files may not grow past a limit (RLIMIT_FSIZE with SIGXFSZ ignored) sees what a
writer on a full disk sees: writes fail. At limits cutting a sweep at several points, `strata run`
and `strata embed` must end with exit code 2 and one line naming the reason, without a signal and
without temporary files left behind; `--resume` afterwards (room again) must end with the archive
of a run never disturbed. A journal entry that cannot be read is set aside with a warning, and its
results are computed again."""
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hostile_files as hf  # noqa: E402
from strata_test import BIN, assert_same_datasets, scratch  # noqa: E402

tmp = scratch("full-disk")
hf.write_jsonl(tmp / "corpus.jsonl", hf.corpus_rows())
np.save(tmp / "vectors.npy", hf.vectors())
SWEEP = tmp / "sweep.toml"
SWEEP.write_text(hf.sweep_text(extra="[cluster]\ncommit_interval_s = 0\n"))
SNAPSHOT = hf.write_snapshot(tmp / "snapshot")


def file_limit(limit):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def strata(*args, limit=None):
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS="1"), preexec_fn=file_limit(limit) if limit else None)


def run(archive, *extra, limit=None):
    return strata("run", SWEEP, "--archive", archive, "--threads", "1", "--no-report", "--quiet", *extra, limit=limit)


def leftovers(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name.endswith(".tmp") or
                  p.name.endswith(".lock"))


def assert_refused_cleanly(p, folder, what):
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert p.returncode == 2, (what, p.returncode, p.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("strata: error: "), (what, p.stderr[-2000:])
    assert "File too large" in lines[0] or "cannot write" in lines[0], (what, lines[0])
    assert "terminate called" not in p.stderr
    assert not leftovers(folder), (what, leftovers(folder))
    return lines[0]


reference = tmp / "reference.h5"
p = run(reference)
assert p.returncode == 0, p.stderr
size = reference.stat().st_size
entry = max(f.stat().st_size for f in Path(str(reference) + ".journal").iterdir())

# The archive is the largest file a run writes; limits below its final size stop the run at
# different moments (creating it, merging the first results, the last ones).
for fraction in (0.02, 0.3, 0.6, 0.9):
    limit = int(size * fraction)
    folder = tmp / f"limit-{limit}"
    folder.mkdir()
    archive = folder / "a.h5"
    line = assert_refused_cleanly(run(archive, limit=limit), folder, f"run at {limit} bytes")
    if archive.exists():  # a second try on the still full disk fails the same way
        assert_refused_cleanly(run(archive, "--resume", limit=limit), folder, f"resume at {limit} bytes")
    p = run(archive, "--resume") if archive.exists() or Path(str(archive) + ".journal").exists() else run(archive)
    assert p.returncode == 0, (limit, p.stderr[-2000:])
    count = assert_same_datasets(reference, archive)
    print(f"files limited to {limit} bytes: '{line}'; resumed with room: {count} datasets equal to the "
          f"undisturbed run")

# strata embed on a full disk: refused, and the same command with room writes the archive.
folder = tmp / "embed"
folder.mkdir()
archive = folder / "e.h5"
embed = ("embed", "--model", SNAPSHOT, "--corpus", tmp / "corpus.jsonl", "-o", archive)
assert_refused_cleanly(strata(*embed, limit=4096), folder, "embed")
p = strata(*embed)
assert p.returncode == 0, p.stderr
print("strata embed on a full disk: refused cleanly; the same command with room succeeded")

# A damaged journal entry (a copy cut short, a disk that failed under an older version): set aside
# with a warning, its results computed again, and the archive ends as the undisturbed run's.
folder = tmp / "damaged"
folder.mkdir()
archive = folder / "a.h5"
assert run(archive).returncode == 0
journal = Path(str(archive) + ".journal")
entries = sorted(journal.glob("*.h5"))
last = entries[-1]
last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
(journal / "00009999.h5").write_bytes(b"not an HDF5 file at all")
(journal / "00000001.h5.tmp").write_bytes(b"left by a crash")
archive.unlink()
p = run(archive, "--resume")
assert p.returncode == 0, p.stderr
warnings = [l for l in p.stderr.splitlines() if "journal entry cannot be read" in l]
assert len(warnings) == 2 and last.name in p.stderr and "00009999.h5" in p.stderr, p.stderr
assert (journal / (last.name + ".damaged")).exists() and not last.exists()
assert not (journal / "00000001.h5.tmp").exists()
count = assert_same_datasets(reference, archive)
p = run(archive, "--resume")
assert p.returncode == 0 and "journal entry" not in p.stderr, p.stderr
print(f"damaged journal entries: set aside with a warning; resumed to {count} datasets equal to the undisturbed run")

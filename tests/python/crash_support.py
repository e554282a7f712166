"""Shared pieces of the crash tests (tests/mpi/test_crash_*.py): a tiny sweep with every job kind,
running it plainly or under mpirun, what a killed run leaves behind, and archive comparison."""
import re
import shutil
import subprocess

import h5py
import numpy as np

from strata_test import BIN, SOURCE, minilm_or_skip, mpi_environment, mpirun_or_skip, mpirun_prefix

MODEL = SOURCE / "models" / "all-MiniLM-L6-v2"

# Attributes that record when, where or how long, not what: they differ between any two runs.
VOLATILE_ATTRS = {"created", "sweep_history", "rebuilt_from_journal", "seconds", "rank"}

_WORDS = {
    "kitchen": ["bread", "soup", "oven", "salt", "butter", "pepper", "onion", "garlic"],
    "harbour": ["boat", "sail", "tide", "anchor", "rope", "gull", "pier", "wave"],
}


def require_tools():
    """Exits 77 (skipped) without mpirun or the MiniLM snapshot that bootstrap.sh links."""
    mpirun_or_skip()
    minilm_or_skip()


def write_sweep(folder, epochs=4, texts_per_source=12, commit_interval_s=0, name="crash.toml"):
    """A sweep of 13 jobs: corpus, a MiniLM embedding and its Gaussian null, one training of each,
    the strata of each at two stratum counts, and their analysis of each training. Returns the sweep file. `commit_interval_s` = 0
    commits each result alone, so that the N-th commit of a crash point is the same in every run;
    None keeps the default (results grouped as they finish)."""
    lines = []
    for source, words in _WORDS.items():
        for i in range(texts_per_source):
            text = " ".join(words[(i * k) % len(words)] for k in range(1, 4 + i % 5))
            lines.append(f'{{"text": "the {text} number {i}", "label": {i % 2}, "source": "{source}"}}')
    (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n")
    sweep = folder / name
    cluster = "" if commit_interval_s is None else f"\n[cluster]\ncommit_interval_s = {commit_interval_s}\n"
    sweep.write_text(f"""[experiment]
name = "crash"
seed = 3

[corpus]
table = "corpus.jsonl"

[[model]]
name = "minilm"
path = "{MODEL}"
pooling = "mean"
max_tokens = 32
batch_size = 8

[moe]
atoms = 8
sparsity = [2, 4]
strata = [2, 3]
gate_dim = 8
epochs = {epochs}
batch_size = 8

[analysis]
mle_k = 4
bootstrap = 5
null_model = true
{cluster}""")
    return sweep


def command(sweep, archive, np_=None, resume=False):
    """The strata command line, under `mpirun -np np_` when np_ is given."""
    cmd = mpirun_prefix(np_) if np_ else []
    cmd += [BIN, "run", str(sweep), "--archive", str(archive), "--threads", "1", "--no-report"]
    return cmd + (["--resume"] if resume else [])


def environment(crash_at=None):
    e = mpi_environment()
    e.pop("STRATA_CRASH_AT", None)
    if crash_at:
        e["STRATA_CRASH_AT"] = crash_at
    return e


def run(sweep, archive, np_=None, resume=False, crash_at=None):
    return subprocess.run(command(sweep, archive, np_, resume), capture_output=True, text=True,
                          env=environment(crash_at), timeout=300)


def resumed_ok(sweep, archive, np_=None):
    """`strata run --resume` finishes with exit 0; returns (computed, reused) from its last line."""
    p = run(sweep, archive, np_=np_, resume=True)
    assert p.returncode == 0, (archive, np_, p.returncode, p.stderr[-3000:])
    m = re.search(r"(\d+) computed, (\d+) already in the archive, 0 failed", p.stderr)
    assert m, p.stderr[-3000:]
    return int(m.group(1)), int(m.group(2))


def left_behind(folder):
    """Every HDF5 file a killed run left in `folder` (archives, journal entries, temporaries)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and re.search(r"\.h5(\.tmp)?$", p.name))


def assert_readable(files):
    """h5py opens each file and reads every object in it."""
    for f in files:
        try:
            with h5py.File(f, "r") as h:
                h.visititems(lambda name, obj: obj[()] if isinstance(obj, h5py.Dataset) else None)
        except Exception as e:  # noqa: BLE001: any failure to read is the finding
            raise AssertionError(f"{f}: h5py cannot read what the killed run left: {e}") from e


def journal_entries(archive):
    """Finished jobs in the journal: what a resume must reuse, not recompute. An entry holds one
    job's result or a group of them committed together."""
    count = 0
    for entry in (archive.parent / (archive.name + ".journal")).glob("*.h5"):
        with h5py.File(entry, "r") as f:
            count += len(f["journal/objects"]) if "journal" in f else 1
    return count


def copy_state(archive, to_folder):
    """Copies a killed run's archive and journal, so two resumes start from the same state."""
    to_folder.mkdir()
    for suffix in ("", ".journal"):
        src = archive.parent / (archive.name + suffix)
        dst = to_folder / src.name
        if src.is_dir():
            shutil.copytree(src, dst)
        elif src.exists():
            shutil.copy2(src, dst)
    return to_folder / archive.name


def _tree(path, volatile=VOLATILE_ATTRS):
    """{name: ("link", target) | ("group", attrs) | ("dataset", attrs, dtype, shape, bytes)} of a
    whole file, soft links recorded as links (not followed), `volatile` attributes left out."""
    out = {}

    def attrs(obj):
        return {k: _plain(v) for k, v in obj.attrs.items() if k not in volatile}

    def walk(group, prefix):
        for name in group:
            full = prefix + name
            link = group.get(name, getlink=True)
            if isinstance(link, h5py.SoftLink):
                out[full] = ("link", link.path)
                continue
            obj = group[name]
            if isinstance(obj, h5py.Group):
                out[full] = ("group", attrs(obj))
                walk(obj, full + "/")
            else:
                data = obj[()]
                if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind in "fiub":
                    payload = np.asarray(data).tobytes()  # bit for bit: NaN equals NaN
                else:
                    payload = _plain(data)
                out[full] = ("dataset", attrs(obj), str(obj.dtype), obj.shape, payload)

    with h5py.File(path, "r") as f:
        out["/"] = ("group", attrs(f))
        walk(f, "/")
    return out


def _plain(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "fiub":
            return (str(v.dtype), v.shape, v.tobytes())
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        return (str(v.dtype), v.tobytes()) if v.dtype.kind in "fiub" else v.item()
    return v


def assert_same_archive(a, b, volatile=VOLATILE_ATTRS):
    """Same groups, links, attributes (`volatile` ones aside) and datasets, bit for bit. Returns
    the number of datasets compared."""
    ta, tb = _tree(a, volatile), _tree(b, volatile)
    assert sorted(ta) == sorted(tb), f"{a} vs {b}: objects differ: {sorted(set(ta) ^ set(tb))}"
    for k in ta:
        assert ta[k] == tb[k], f"{a} vs {b}: {k} differs"
    return sum(1 for v in ta.values() if v[0] == "dataset")


def crash_setup(name):
    """The start of every crash test: tools present, a scratch folder, the crash sweep written
    there and its uninterrupted run. Returns (folder, sweep, reference archive, its job count)."""
    from strata_test import scratch
    require_tools()
    tmp = scratch(name)
    sweep = write_sweep(tmp)
    reference = tmp / "reference.h5"
    p = run(sweep, reference)
    assert p.returncode == 0, p.stderr
    return tmp, sweep, reference, 13


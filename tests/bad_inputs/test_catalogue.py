"""The bad-input catalogue: malformed files of every kind strata reads, each made here from a good
one broken in one way. Every case must end as bad input does: exit code 2, no signal and no
'terminate called', one line on stderr that names the file (and the place, where it has one), and
an archive that existed before is byte for byte what it was. The checks asked of strata are
properties of its readers (bounds, consistency, resource limits), so nothing here is special-cased.

Then the disk: a run whose files may not grow past a limit (RLIMIT_FSIZE, SIGXFSZ ignored: what a
full disk looks like to a writer) ends with one clear line, leaves no temporary file, and
`--resume` afterwards, with room again, ends with the archive of a run never disturbed; and a
damaged journal entry is set aside with a warning instead of stopping every later resume."""
import fcntl
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hostile_files as hf  # noqa: E402
from strata_test import BIN, SOURCE, assert_same_datasets, scratch  # noqa: E402

tmp = scratch("bad-inputs")
GOOD = tmp / "good"
GOOD.mkdir()
hf.write_jsonl(GOOD / "corpus.jsonl", hf.corpus_rows())
np.save(GOOD / "vectors.npy", hf.vectors())
SNAPSHOT = hf.write_snapshot(GOOD / "snapshot")
(GOOD / "sweep.toml").write_text(hf.sweep_text())


def env():
    e = dict(os.environ, OMP_NUM_THREADS="1")
    return e


def run(args, cwd=None, preexec=None, timeout=300):
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, env=env(), cwd=cwd,
                          preexec_fn=preexec, timeout=timeout)


def digest(path):
    if not path.exists():
        return None
    if path.is_dir():
        return "folder"
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Archives to break or to refuse: one finished run, one `strata embed` of the good snapshot.
ARCHIVE = GOOD / "archive.h5"
p = run(["run", GOOD / "sweep.toml", "--archive", ARCHIVE, "--threads", "1", "--no-report", "--quiet"])
assert p.returncode == 0, p.stderr
EMBEDDED = GOOD / "embedded.h5"
p = run(["embed", "--model", SNAPSHOT, "--corpus", GOOD / "corpus.jsonl", "-o", EMBEDDED, "--name", "good"])
assert p.returncode == 0, p.stderr
for f in (ARCHIVE, EMBEDDED):
    assert not Path(str(f) + ".lock").exists(), "a finished run leaves its lock file"


@dataclass
class Case:
    name: str
    args: list  # the strata command line, after BIN
    needles: list  # what the error line must name (the file, the place)
    code: int = 2
    archive: Path = None  # an existing archive that must come out unchanged
    preexec: object = None
    folder: Path = None
    lines: int = 1  # lines on stderr


cases = []


def folder_for(name):
    d = tmp / name
    d.mkdir()
    return d


def add(name, args, needles, **kw):
    cases.append(Case(name, args, needles, **kw))


def archive_copy(d, source=ARCHIVE):
    """A copy of a finished archive with its journal, to be refused without a change."""
    target = d / source.name
    shutil.copy2(source, target)
    shutil.copytree(str(source) + ".journal", str(target) + ".journal")
    return target


# --- sweep files (strata plan): the parser and the validator -----------------------------

def sweep_cases():
    def bad(name, text, needles, binary=False):
        d = folder_for("sweep-" + name)
        f = d / "s.toml"
        f.write_bytes(text if binary else text.encode())
        add("sweep: " + name, ["plan", f], ["s.toml", *needles])

    bad("empty file", "", ["[experiment]"])
    bad("binary garbage", bytes(range(256)) * 4, [], binary=True)
    bad("invalid UTF-8", b"[experiment]\nname = \"\xff\xfe\"\n", ["s.toml:2"], binary=True)
    bad("NUL byte", b"[experiment]\nname = \"a\x00b\"\n", ["s.toml:2"], binary=True)
    # Characters toml++ once classified through an undefined-behaviour branch (U+00E9, U+3001).
    bad("non-ASCII in a bare value", "[experiment]\nseed = 1\u00e9\n", ["s.toml:2"])
    bad("non-ASCII after a string", "[experiment]\nname = \"x\"\u3001\n", ["s.toml:2"])
    bad("integer too large", hf.sweep_text().replace("seed = 1", "seed = 99999999999999999999999"), ["s.toml:3"])
    bad("deeply nested array", hf.sweep_text().replace("seeds = [0]", "seeds = " + "[" * 5000 + "]" * 5000), [])
    bad("table defined twice", hf.sweep_text() + "\n[moe]\natoms = 4\n", ["s.toml:"])
    bad("sparsity as a string", hf.sweep_text().replace("sparsity = [2, 2]", 'sparsity = "2"'), ["sparsity"])
    bad("negative epochs", hf.sweep_text().replace("epochs = 1", "epochs = -1"), ["epochs"])
    bad("huge atoms", hf.sweep_text().replace("atoms = 4", "atoms = 9223372036854775807"), ["atoms"])
    bad("name with a path", hf.sweep_text().replace('name = "hostile"', 'name = "../../etc"'), ["name"])
    bad("unknown model key", hf.sweep_text(models='[[model]]\nname = "v"\nimprt = "v.npy"\n'), ["imprt"])
    d = folder_for("sweep-folder")
    add("sweep: a folder", ["plan", d], [str(d), "folder"])
    add("sweep: missing file", ["plan", d / "absent.toml"], ["absent.toml"])


# --- imported vectors (.npy) ---------------------------------------------------------------

def npy_cases():
    X = hf.vectors()

    def bad(name, data, needles):
        d = folder_for("npy-" + name.replace(" ", "-"))
        shutil.copy(GOOD / "corpus.jsonl", d)
        (d / "vectors.npy").write_bytes(data)
        (d / "s.toml").write_text(hf.sweep_text())
        add("npy: " + name, ["run", d / "s.toml", "--archive", d / "a.h5", "--quiet", "--no-report"],
            ["vectors.npy", *needles])

    shape = X.shape
    bad("bad magic", b"NOTNUMPY" + hf.npy_bytes(X)[8:], ["magic"])
    bad("format version 9", hf.npy_bytes(X)[:6] + b"\x09\x00" + hf.npy_bytes(X)[8:], ["version"])
    bad("truncated header", hf.npy_bytes(X)[:30], [])
    bad("empty file", b"", [])
    bad("header length past the end", hf.npy_bytes(X)[:8] + b"\xff\xff" + b"{", [])

    def header(descr="<f4", fortran=False, shape="(40, 8)"):
        return hf.npy_bytes(X, header=f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}")

    bad("object dtype (pickle)", header(descr="|O"), ["|O"])
    bad("complex dtype", header(descr="<c8"), ["<c8"])
    bad("big-endian floats", header(descr=">f4"), [">f4"])
    bad("Fortran order", header(fortran=True), ["Fortran"])
    bad("shape claims more data", header(shape="(40, 9)"), ["bytes"])
    bad("shape claims less data", header(shape="(20, 8)"), ["bytes"])
    bad("negative shape", header(shape="(-40, 8)"), ["shape"])
    bad("shape overflowing", header(shape="(4611686018427387904, 4)"), ["shape"])
    bad("shape digits without end", header(shape="(" + "9" * 400 + ", 8)"), ["shape"])
    bad("shape with an empty entry", header(shape="(40,, 8)"), ["empty entry"])
    # No elements at all, but sizes whose product (the tensor's strides) overflows.
    bad("zero rows of overflowing width", hf.npy_bytes(X[:0], header="{'descr': '<f4', 'fortran_order': False, "
        "'shape': (0, 1099511627776, 1099511627776), }"), ["too large"])
    bad("header of one long string", hf.npy_bytes(X, header="{'descr': '" + "a" * 60000 + "'}"), [])
    bad("one dimension", hf.npy_bytes(X.reshape(-1)), ["2-D"])
    bad("rows not the corpus's", hf.npy_bytes(X[:30]), ["30 rows", "40 rows"])
    bad("integers", hf.npy_bytes(X.astype(np.int64)), ["float"])
    Y = X.copy()
    Y[3, 2] = np.nan
    bad("a NaN", hf.npy_bytes(Y), ["NaN"])
    d = folder_for("npy-folder")
    shutil.copy(GOOD / "corpus.jsonl", d)
    (d / "vectors.npy").mkdir()
    (d / "s.toml").write_text(hf.sweep_text())
    add("npy: a folder", ["run", d / "s.toml", "--archive", d / "a.h5", "--quiet", "--no-report"], ["vectors.npy"])


# --- model snapshots: safetensors, config.json, tokenizer.json (strata embed) ----------------

def snapshot_case(name, needles, config=None, weights=None, tokenizer=None, remove=(), code=2):
    """`strata embed` of a broken snapshot into an existing archive, which must come out unchanged."""
    d = folder_for("snap-" + name.replace(" ", "-").replace("/", "-"))
    snap = hf.copy_snapshot(SNAPSHOT, d / "snapshot")
    for part, value in (("config.json", config), ("model.safetensors", weights), ("tokenizer.json", tokenizer)):
        if value is not None:
            (snap / part).write_bytes(value if isinstance(value, bytes) else
                                      (value if isinstance(value, str) else json.dumps(value)).encode())
    for r in remove:
        (snap / r).unlink()
    target = archive_copy(d, EMBEDDED)
    add("snapshot: " + name, ["embed", "--model", snap, "--corpus", GOOD / "corpus.jsonl", "-o", target,
                              "--name", "bad"], needles, archive=target, code=code)


def safetensors_cases():
    header, data = hf.safetensors_parts(hf.bert_weights())
    full = hf.safetensors_bytes(header, data)
    st = "model.safetensors"
    snapshot_case("safetensors truncated", [st, "truncated"], weights=full[:len(full) // 2])
    snapshot_case("safetensors empty", [st], weights=b"")
    snapshot_case("safetensors header past the end", [st], weights=hf.safetensors_bytes(header, data, header_size=10**9))
    snapshot_case("safetensors header size 2^63", [st], weights=hf.safetensors_bytes(header, data, header_size=2**63))
    snapshot_case("safetensors header not JSON", [st, "JSON"],
                  weights=hf.safetensors_bytes(header, data, header_text="{not json" + " " * 40))
    snapshot_case("safetensors header a list", [st], weights=hf.safetensors_bytes(header, data, header_text="[1, 2]"))
    snapshot_case("safetensors header nested 100000 deep", [st, "nested"],
                  weights=hf.safetensors_bytes(header, data, header_text="[" * 100000 + "]" * 100000))
    name = "encoder.layer.0.output.dense.weight"

    def lying(change, needles, label):
        h = json.loads(json.dumps(header))
        change(h[name])
        snapshot_case("safetensors " + label, [st, *needles], weights=hf.safetensors_bytes(h, data))

    other = header["encoder.layer.0.intermediate.dense.weight"]["data_offsets"]
    lying(lambda e: e.update(data_offsets=[other[0], other[0] + 512]), ["overlap"], "overlapping tensors")
    lying(lambda e: e.update(data_offsets=[len(data), len(data) + 512]), [name], "offsets past the data")
    lying(lambda e: e.update(data_offsets=[e["data_offsets"][1], e["data_offsets"][0]]), [name], "offsets reversed")
    lying(lambda e: e.update(data_offsets=[-8, 504]), [name], "negative offset")
    lying(lambda e: e.update(dtype="F8_E4M3"), ["F8_E4M3"], "unknown dtype")
    lying(lambda e: e.update(shape=[8, 17]), [name], "shape not its bytes")
    lying(lambda e: e.update(shape=[-8, -16]), [name], "negative shape")
    lying(lambda e: e.update(shape=[2**62, 2**62]), [name], "shape overflowing")
    lying(lambda e: e.update(shape=[[[[8]]]]), [name], "shape nested")
    w = hf.bert_weights()
    del w[name]
    snapshot_case("safetensors missing a tensor", [name], weights=hf.safetensors_bytes(*hf.safetensors_parts(w)))
    w = hf.bert_weights()
    w[name] = w[name][:, :8].copy()
    snapshot_case("safetensors wrong shape for the config", [name], weights=hf.safetensors_bytes(*hf.safetensors_parts(w)))
    w = hf.bert_weights()
    w["encoder.layer.0.attention.self.query.weight"][:] = np.nan
    snapshot_case("NaN weights", ["snapshot", "NaN"], weights=hf.safetensors_bytes(*hf.safetensors_parts(w)))
    snapshot_case("no weights", ["safetensors"], remove=[st])
    d = folder_for("snap-index-missing-shard")
    snap = hf.copy_snapshot(SNAPSHOT, d / "snapshot")
    (snap / st).unlink()
    (snap / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {name: "part-2.safetensors"}}))
    target = archive_copy(d, EMBEDDED)
    add("snapshot: index names a missing shard", ["embed", "--model", snap, "--corpus", GOOD / "corpus.jsonl", "-o",
                                                   target, "--name", "bad"], ["part-2.safetensors"], archive=target)


def config_cases():
    c = "config.json"
    snapshot_case("config not JSON", [c], config="{model_type: bert")
    snapshot_case("config a list", [c], config="[1, 2, 3]")
    snapshot_case("config nested 100000 deep", [c, "nested"], config='{"a": ' + "[" * 100000 + "]" * 100000 + "}")
    snapshot_case("config model_type unknown", [c, "t5"], config=hf.bert_config(model_type="t5"))
    snapshot_case("config without model_type", [c, "model_type"],
                  config={k: v for k, v in hf.bert_config().items() if k != "model_type"})
    snapshot_case("config vocab_size 0", [c, "vocab_size"], config=hf.bert_config(vocab_size=0))
    snapshot_case("config vocab_size negative", [c, "vocab_size"], config=hf.bert_config(vocab_size=-24))
    snapshot_case("config heads 0", [c, "num_attention_heads"], config=hf.bert_config(num_attention_heads=0))
    snapshot_case("config hidden not a multiple of heads", [c], config=hf.bert_config(num_attention_heads=3))
    snapshot_case("config hidden_size a string", [c, "hidden_size"], config=hf.bert_config(hidden_size="8"))
    snapshot_case("config hidden_size deeply nested", [c, "hidden_size"],
                  config='{"model_type": "bert", "hidden_size": ' + "[" * 100 + "]" * 100 + "}")
    snapshot_case("config intermediate_size 2^40", [c, "intermediate_size"], config=hf.bert_config(intermediate_size=2**40))
    snapshot_case("config 2^30 layers", ["encoder.layer.1"], config=hf.bert_config(num_hidden_layers=2**30))
    snapshot_case("config unknown activation", [c, "hidden_act"], config=hf.bert_config(hidden_act="swoosh"))
    snapshot_case("config relative positions", [c, "position_embedding_type"],
                  config=hf.bert_config(position_embedding_type="relative_key"))
    snapshot_case("vocab_size below the tokenizer's", ["snapshot", "vocab_size"],
                  config=hf.bert_config(vocab_size=10),
                  weights=hf.safetensors_bytes(*hf.safetensors_parts(hf.bert_weights(vocab=10))))
    snapshot_case("no config", [c], remove=[c])


def tokenizer_cases():
    t = "tokenizer.json"
    good = hf.tokenizer_json()

    def changed(f):
        j = json.loads(json.dumps(good))
        f(j)
        return j

    snapshot_case("tokenizer not JSON", [t], tokenizer='{"model": ')
    snapshot_case("tokenizer truncated", [t], tokenizer=json.dumps(good)[:200])
    snapshot_case("tokenizer nested 100000 deep", [t, "nested"], tokenizer="[" * 100000 + "]" * 100000)
    snapshot_case("tokenizer model Unigram", [t, "Unigram"], tokenizer=changed(lambda j: j["model"].update(type="Unigram")))
    snapshot_case("tokenizer merges out of step with the vocab", [t, "merge"], tokenizer=changed(
        lambda j: j.update(model={"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"], "unk_token": None})))
    snapshot_case("tokenizer vocab id negative", [t], tokenizer=changed(lambda j: j["model"]["vocab"].update(apple=-5)))
    snapshot_case("tokenizer id past the model's table", ["snapshot", "embedding table"],
                  tokenizer=changed(lambda j: j["model"]["vocab"].update(apple=100000)))
    snapshot_case("tokenizer special id past the table", ["snapshot", "embedding table"], tokenizer=changed(
        lambda j: j["post_processor"]["special_tokens"]["[CLS]"].update(ids=[77777])))
    snapshot_case("tokenizer normalizer unknown", [t, "Precompiled"],
                  tokenizer=changed(lambda j: j.update(normalizer={"type": "Precompiled", "precompiled_charsmap": ""})))
    snapshot_case("tokenizer split regex invalid", [t], tokenizer=changed(lambda j: j.update(
        pre_tokenizer={"type": "Split", "pattern": {"Regex": "(unclosed[" }, "behavior": "Isolated", "invert": False})))
    snapshot_case("tokenizer vocab not an object", [t], tokenizer=changed(lambda j: j["model"].update(vocab=[1, 2])))
    snapshot_case("no tokenizer", ["tokenizer"], remove=[t])


# --- corpus tables (strata embed) and release formats (strata run) ---------------------------

def table_case(name, filename, text, needles):
    d = folder_for("table-" + name.replace(" ", "-"))
    f = d / filename
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    target = archive_copy(d, EMBEDDED)
    add("corpus table: " + name, ["embed", "--model", SNAPSHOT, "--corpus", f, "-o", target], [filename, *needles],
        archive=target)


def table_cases():
    table_case("CSV quote never closed", "t.csv", 'text,label,source\n"apple river,0,a\nstone,1,a\n',
               ["t.csv:2", "not closed"])
    table_case("CSV text in the label column", "t.csv", "text,label,source\napple,0,a\nriver,positive,a\n",
               ["t.csv:3", "positive"])
    table_case("CSV too many columns", "t.csv", "text,label,source\napple,0,a,extra\n", ["t.csv:2"])
    table_case("CSV without a text column", "t.csv", "words,label,source\napple,0,a\n", ["text"])
    table_case("CSV without a source column", "t.csv", "text,label\napple,0\n", ["source"])
    table_case("CSV header only", "t.csv", "text,label,source\n", ["no rows"])
    table_case("CSV empty", "t.csv", "", [])
    table_case("JSONL garbage line", "t.jsonl", '{"text": "apple", "label": 0, "source": "a"}\nthis is not json\n',
               ["t.jsonl:2", "JSON"])
    table_case("JSONL an array", "t.jsonl", '[1, 2]\n', ["t.jsonl:1"])
    table_case("JSONL text a number", "t.jsonl", '{"text": 5, "label": 0}\n', ["t.jsonl:1", "text"])
    table_case("JSONL label a word", "t.jsonl", '{"text": "apple", "label": "pos"}\n', ["t.jsonl:1", "pos"])
    table_case("JSONL label fractional", "t.jsonl", '{"text": "apple", "label": 1.5}\n', ["t.jsonl:1"])
    table_case("JSONL label 1e30", "t.jsonl", '{"text": "apple", "label": 1e30}\n', ["t.jsonl:1"])
    table_case("JSONL nested 100000 deep", "t.jsonl", '{"text": "a", "x": ' + "[" * 100000 + "]" * 100000 + "}\n",
               ["t.jsonl:1", "nested"])
    table_case("JSONL no rows", "t.jsonl", "\n\n", ["no rows"])
    table_case("table of unknown kind", "t.parquet", "PAR1", ["t.parquet"])


def source_case(name, fmt, build, needles, split=""):
    d = folder_for("source-" + name.replace(" ", "-"))
    data = d / "data"
    data.mkdir()
    build(data)
    source = f'[[corpus.source]]\nname = "s"\nformat = "{fmt}"\npath = "data"\n{split}'
    (d / "s.toml").write_text(hf.sweep_text(corpus="samples_per_source = 0\n" + source,
                                            models='[[model]]\nname = "m"\npath = "snapshot"\n'))
    os.symlink(SNAPSHOT, d / "snapshot")
    add("source: " + name, ["run", d / "s.toml", "--archive", d / "a.h5", "--quiet", "--no-report"], needles)


def source_cases():
    def tweet(text_lines, label_lines):
        def build(data):
            (data / "val_text.txt").write_text(text_lines)
            (data / "val_labels.txt").write_text(label_lines)
        return build

    val = 'split = "validation"\n'
    source_case("TweetEval files not line-aligned", "tweet-eval", tweet("apple\nriver\nstone\n", "0\n1\n"),
                ["val_text.txt", "val_labels.txt"], split=val)
    source_case("TweetEval label a word", "tweet-eval", tweet("apple\nriver\n", "0\nhappy\n"), ["val_labels.txt:2"],
                split=val)
    source_case("TweetEval labels missing", "tweet-eval", lambda data: (data / "val_text.txt").write_text("apple\n"),
                ["val_labels.txt"], split=val)
    source_case("AG News label out of range", "ag-news-csv",
                lambda data: (data / "test.csv").write_text('"5","title","apple river"\n'), ["test.csv:1", "5"],
                split='split = "test"\n')
    source_case("SST-2 TSV short row", "glue-sst2-tsv",
                lambda data: (data / "dev.tsv").write_text("sentence\tlabel\napple river\n"), ["dev.tsv:2"], split=val)
    source_case("aclImdb without its folders", "aclimdb", lambda data: None, ["data"])


# --- archives: foreign, damaged, refused (nothing may change) --------------------------------

def archive_cases():
    sweep = GOOD / "sweep.toml"
    run_args = lambda a, *extra: ["run", sweep, "--archive", a, "--quiet", "--no-report", *extra]

    d = folder_for("archive-plain-file")
    a = d / "a.h5"
    a.write_text("my thesis, chapter 3\n")
    add("archive: a plain file, --resume", run_args(a, "--resume"), ["a.h5", "not an HDF5"], archive=a)
    add("archive: a plain file", run_args(a), ["a.h5", "exists"], archive=a)
    add("archive: a plain file, inspect", ["inspect", a], ["a.h5"], archive=a)

    d = folder_for("archive-foreign")
    a = d / "a.h5"
    with h5py.File(a, "w") as f:
        f["measurements"] = np.arange(10.0)
        f.attrs["instrument"] = "spectrometer"
    add("archive: another program's HDF5 file, --resume", run_args(a, "--resume"), ["a.h5", "not a strata archive"],
        archive=a)
    target = archive_copy(folder_for("archive-newer"))
    with h5py.File(target, "r+") as f:
        f.attrs["format_version"] = 99
    add("archive: a newer format", run_args(target, "--resume"), ["archive.h5", "format 99"], archive=target)

    # An archive whose string heap is corrupt: HDF5 itself crashes reading it (found by fuzzing).
    d = folder_for("archive-hdf5-crasher")
    a = d / "a.h5"
    shutil.copy2(SOURCE / "tests" / "fuzz" / "corpus" / "archive" / "regression-hdf5-global-heap", a)
    add("archive: HDF5 crashes on it, --resume", run_args(a, "--resume"), ["a.h5", "HDF5 crashed"], archive=a)
    add("archive: HDF5 crashes on it, inspect", ["inspect", a], ["a.h5", "HDF5 crashed"], archive=a)

    d = folder_for("archive-truncated")
    a = d / "a.h5"
    a.write_bytes(ARCHIVE.read_bytes()[:ARCHIVE.stat().st_size // 2])
    add("archive: truncated, no journal", run_args(a, "--resume"), ["a.h5", "no journal"], archive=a)
    add("archive: truncated, inspect", ["inspect", a], ["a.h5"], archive=a)

    target = archive_copy(folder_for("archive-journal-file"))
    shutil.rmtree(str(target) + ".journal")
    Path(str(target) + ".journal").write_text("not a folder")
    add("archive: its journal is a file", run_args(target, "--resume"), ["archive.h5.journal", "not a folder"],
        archive=target)
    d = folder_for("archive-journal-file-only")
    Path(str(d / "a.h5") + ".journal").write_text("not a folder")
    add("archive: no archive, its journal a file", run_args(d / "a.h5"), ["a.h5.journal", "not a folder"])

    d = folder_for("archive-folder")
    (d / "a.h5").mkdir()
    add("archive: a folder", run_args(d / "a.h5", "--resume"), ["a.h5", "folder"])

    target = archive_copy(folder_for("archive-other-corpus"))
    other = target.parent / "other.toml"
    rows = hf.corpus_rows()
    rows[0]["text"] = "a different first row"
    hf.write_jsonl(target.parent / "corpus.jsonl", rows)
    np.save(target.parent / "vectors.npy", hf.vectors())
    other.write_text(hf.sweep_text())
    add("archive: --resume with another corpus", ["run", other, "--archive", target, "--resume", "--quiet",
                                                 "--no-report"], ["archive.h5", "/corpus"], archive=target)
    target = archive_copy(folder_for("archive-embed-other-corpus"), EMBEDDED)
    add("archive: embed with another corpus", ["embed", "--model", SNAPSHOT, "--corpus", other.parent / "corpus.jsonl",
                                               "-o", target, "--name", "good"], ["embedded.h5", "/corpus"],
        archive=target)

    d = folder_for("archive-parent-is-file")
    (d / "file").write_text("x")
    add("archive: its folder is a file", run_args(d / "file" / "a.h5"), ["file", "Not a directory"])
    if shutil.which("setpriv") or os.geteuid() != 0:
        d = folder_for("archive-read-only-folder")
        ro = d / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        args = run_args(ro / "a.h5")
        if os.geteuid() == 0:  # root writes anywhere: take that capability away
            args = ["--", "setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search",
                    BIN] + args
        add("archive: a folder not writable", args, ["ro", "Permission denied"])


# --- running them -----------------------------------------------------------------------

def check(c):
    """The problems of one case (empty when it behaved)."""
    before = digest(c.archive) if c.archive else None
    argv = c.args
    if argv and argv[0] == "--":  # a wrapper command before strata itself
        p = subprocess.run([str(x) for x in argv[1:]], capture_output=True, text=True, env=env(), timeout=300)
    else:
        p = run(argv, preexec=c.preexec)
    problems = []
    err = p.stderr
    lines = [l for l in err.splitlines() if l.strip()]
    if p.returncode < 0:
        problems.append(f"killed by signal {-p.returncode}")
    elif p.returncode != c.code:
        problems.append(f"exit code {p.returncode}, not {c.code}")
    for bad in ("terminate called", "Segmentation fault", "Assertion", "AddressSanitizer", "runtime error:"):
        if bad in err:
            problems.append(f"'{bad}' on stderr")
    if len(lines) != c.lines:
        problems.append(f"{len(lines)} lines on stderr")
    if c.code == 2 and lines and not lines[-1].startswith("strata: error: "):
        problems.append("no 'strata: error:' line")
    for n in c.needles:
        if str(n) not in err:
            problems.append(f"does not name '{n}'")
    if c.archive and digest(c.archive) != before:
        problems.append("the archive changed")
    if c.archive and Path(str(c.archive) + ".lock").exists():
        problems.append("a lock file was left")
    return problems, err.strip()


sweep_cases()
npy_cases()
safetensors_cases()
config_cases()
tokenizer_cases()
table_cases()
source_cases()
archive_cases()

failures = []
for c in cases:
    problems, err = check(c)
    status = "ok " if not problems else "BAD"
    print(f"{status} {c.name}: {err.splitlines()[-1] if err else '(no stderr)'}"[:300])
    if problems:
        failures.append(f"{c.name}: {'; '.join(problems)}\n    stderr: {err[-600:]}")
print(f"{len(cases) - len(failures)} of {len(cases)} hostile inputs behaved")
assert len(cases) >= 60, len(cases)
assert not failures, "\n" + "\n".join(failures)

#!/usr/bin/env python3
"""Fetch the paper's inputs: five open models and six datasets, as the files sweeps/paper.toml reads.

With network access, one command writes everything under ROOT (default: the repository root):

    python3 sweeps/fetch_paper_inputs.py [--root DIR] [--only NAME ...]

  models/<name>/   Hugging Face snapshots (config.json, *.safetensors, the safetensors index,
                   tokenizer.json, tokenizer_config.json, vocabulary files) of bert-base-uncased,
                   roberta-base, gpt2, Llama-3.2-1B and DeepSeek-R1-Distill-Qwen-1.5B.
                   meta-llama/Llama-3.2-1B is gated: accept its licence on the Hub and set HF_TOKEN.
  data/...         the six datasets, loaded with the `datasets` library and written in each
                   release's own format, which strata's corpus readers read:
    data/aclImdb/{train,test}/{neg,pos}/<row>_0.txt, data/aclImdb/train/unsup/<row>_0.txt
        one file per review. The Hub copy carries neither the original file ids nor the
        ratings: <row> is the row's index in the Hub split (so strata's sorted reading order is
        the Hub's order) and the rating is written as 0 (unknown).
    data/rt-polaritydata/rt-polarity.{pos,neg}
        Latin-1, one sentence a line: the Hub's train, validation and test rows of each
        polarity, in that order, which is the original file (the Hub builder cut it 80/10/10).
    data/amazon_polarity/{train,test}.csv
        no header, every field quoted: label (1 negative, 2 positive), title, content.
    data/SST-2/{train,dev,test}.tsv
        GLUE's TSV: header "sentence<TAB>label" (test: "index<TAB>sentence"), unquoted.
    data/tweet_eval/sentiment/{train,val,test}_{text,labels}.txt
        line-aligned text and label files.
    data/ag_news/{train,test}.csv
        no header, every field quoted: class (1..4), text. The Hub copy holds title and
        description already joined by a space, so the two-column variant is written (strata's
        ag-news-csv reader takes the text as it is).

Offline (or when a package is missing, a repository is gated, ...), every item that could not
be fetched is named with the reason, what was fetched stays, and the exit status is 1.
Files are written under a temporary name and renamed when complete, so a file that exists is
whole. An item whose files all exist is skipped unless --force is given.

A second use exports any dataset the `datasets` library can load (from its local cache when
offline, with HF_DATASETS_OFFLINE=1) to JSON lines for strata's generic "jsonl" reader:

    python3 sweeps/fetch_paper_inputs.py export-jsonl DATASET [--config NAME] [--split train]
        [--text-field text [--text-field ...]] [--label-field label] -o FILE.jsonl

Each line is {"text": ..., "label": ..., "id": "DATASET[/CONFIG]/SPLIT/ROW"}; several
--text-field values are joined by one space; a missing label is written as null.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

REPO_ROOT = Path(__file__).resolve().parent.parent

MODEL_FILES = [
    "config.json",
    "*.safetensors",
    "model.safetensors.index.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
]

# Folder name under models/ -> Hub repository.
MODELS = {
    "bert-base-uncased": "bert-base-uncased",
    "roberta-base": "roberta-base",
    "gpt2": "gpt2",
    "Llama-3.2-1B": "meta-llama/Llama-3.2-1B",
    "DeepSeek-R1-Distill-Qwen-1.5B": "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
}


class FetchError(Exception):
    """One item could not be fetched; the message says why in one line."""


# ---- writing files whole ----------------------------------------------------------------------


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def _commit(partial: Path, final: Path) -> None:
    if final.exists():
        shutil.rmtree(final) if final.is_dir() else final.unlink()
    partial.rename(final)


def _open_partial(path: Path, encoding: str = "utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    # newline="" keeps "\n" as written on every platform (the releases use \n).
    return open(_partial(path), "w", encoding=encoding, newline="")


# ---- release-format writers (take plain rows, so they are testable without the Hub) ---------


def write_aclimdb_split(rows: Iterable[dict], folder: Path, split: str) -> int:
    """rows: {"text", "label"} in Hub order; label 0 -> neg, 1 -> pos, -1 -> unsup (train/unsup)."""
    n = 0
    for index, row in enumerate(rows):
        label = int(row["label"])
        sub = {0: f"{split}/neg", 1: f"{split}/pos", -1: "train/unsup"}.get(label)
        if sub is None:
            raise FetchError(f"imdb {split} row {index}: label {label} is not 0, 1 or -1")
        path = folder / sub / f"{index}_0.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(row["text"].encode("utf-8"))
        n += 1
    return n


def write_rt_polarity(splits: list[Iterable[dict]], folder: Path) -> dict[str, int]:
    """splits: the Hub's train, validation, test rows; writes rt-polarity.pos / .neg (Latin-1)."""
    lines: dict[int, list[str]] = {1: [], 0: []}
    for rows in splits:
        for row in rows:
            text = row["text"]
            if "\n" in text or "\r" in text:
                raise FetchError(f"rotten_tomatoes: a sentence holds a line break: {text[:60]!r}")
            lines[int(row["label"])].append(text)
    for label, suffix in ((1, "pos"), (0, "neg")):
        final = folder / f"rt-polarity.{suffix}"
        try:
            with _open_partial(final, encoding="latin-1") as f:
                for text in lines[label]:
                    f.write(text + "\n")
        except UnicodeEncodeError as e:
            raise FetchError(f"rotten_tomatoes: a sentence is not Latin-1 ({e})") from e
        _commit(_partial(final), final)
    return {"pos": len(lines[1]), "neg": len(lines[0])}


def write_quoted_csv(rows: Iterable[list], final: Path) -> int:
    """No header, every field quoted, "" for a quote, \\n line ends: the CSV releases' layout."""
    n = 0
    with _open_partial(final) as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for row in rows:
            writer.writerow(row)
            n += 1
    _commit(_partial(final), final)
    return n


def write_tsv(header: list[str], rows: Iterable[list], final: Path) -> int:
    """GLUE's TSV: unquoted, so a field may hold neither a tab nor a line break."""
    n = 0
    with _open_partial(final) as f:
        f.write("\t".join(header) + "\n")
        for row in rows:
            cells = [str(c) for c in row]
            if any(("\t" in c or "\n" in c or "\r" in c) for c in cells):
                raise FetchError(f"{final.name}: a field holds a tab or line break: {cells!r:.80}")
            f.write("\t".join(cells) + "\n")
            n += 1
    _commit(_partial(final), final)
    return n


def write_tweet_eval_split(rows: Iterable[dict], folder: Path, split: str) -> int:
    texts, labels = [], []
    for row in rows:
        text = row["text"]
        if "\n" in text or "\r" in text:
            raise FetchError(f"tweet_eval {split}: a tweet holds a line break: {text[:60]!r}")
        texts.append(text)
        labels.append(str(int(row["label"])))
    for name, values in ((f"{split}_text.txt", texts), (f"{split}_labels.txt", labels)):
        final = folder / name
        with _open_partial(final) as f:
            f.writelines(v + "\n" for v in values)
        _commit(_partial(final), final)
    return len(texts)


# ---- the six datasets ---------------------------------------------------------------------


def _load(name: str, config: str | None, split: str):
    try:
        import datasets  # noqa: F401  (imported here so a missing package is reported per item)
    except ImportError as e:
        raise FetchError("the Python package 'datasets' is not installed (pip install datasets)") from e
    from datasets import load_dataset

    return load_dataset(name, config, split=split) if config else load_dataset(name, split=split)


def fetch_imdb(root: Path) -> str:
    final = root / "data" / "aclImdb"
    staging = _partial(final)
    shutil.rmtree(staging, ignore_errors=True)
    counts = {}
    for split in ("train", "test", "unsupervised"):
        counts[split] = write_aclimdb_split(_load("stanfordnlp/imdb", None, split), staging,
                                            "train" if split == "unsupervised" else split)
    _commit(staging, final)
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def fetch_rotten_tomatoes(root: Path) -> str:
    splits = [_load("cornell-movie-review-data/rotten_tomatoes", None, s)
              for s in ("train", "validation", "test")]
    counts = write_rt_polarity(splits, root / "data" / "rt-polaritydata")
    return f"pos {counts['pos']}, neg {counts['neg']}"


def fetch_amazon_polarity(root: Path) -> str:
    out = []
    for split in ("train", "test"):
        rows = _load("fancyzhx/amazon_polarity", None, split)
        n = write_quoted_csv(([int(r["label"]) + 1, r["title"], r["content"]] for r in rows),
                             root / "data" / "amazon_polarity" / f"{split}.csv")
        out.append(f"{split} {n}")
    return ", ".join(out)


def fetch_sst2(root: Path) -> str:
    folder = root / "data" / "SST-2"
    out = []
    for split, file in (("train", "train.tsv"), ("validation", "dev.tsv")):
        rows = _load("nyu-mll/glue", "sst2", split)
        n = write_tsv(["sentence", "label"], ([r["sentence"], int(r["label"])] for r in rows),
                      folder / file)
        out.append(f"{split} {n}")
    rows = _load("nyu-mll/glue", "sst2", "test")
    n = write_tsv(["index", "sentence"], ([int(r["idx"]), r["sentence"]] for r in rows),
                  folder / "test.tsv")
    out.append(f"test {n}")
    return ", ".join(out)


def fetch_tweet_eval(root: Path) -> str:
    folder = root / "data" / "tweet_eval" / "sentiment"
    out = []
    for split, name in (("train", "train"), ("validation", "val"), ("test", "test")):
        n = write_tweet_eval_split(_load("cardiffnlp/tweet_eval", "sentiment", split), folder, name)
        out.append(f"{name} {n}")
    return ", ".join(out)


def fetch_ag_news(root: Path) -> str:
    out = []
    for split in ("train", "test"):
        rows = _load("fancyzhx/ag_news", None, split)
        n = write_quoted_csv(([int(r["label"]) + 1, r["text"]] for r in rows),
                             root / "data" / "ag_news" / f"{split}.csv")
        out.append(f"{split} {n}")
    return ", ".join(out)


# ---- models ------------------------------------------------------------------------------------


def fetch_model(root: Path, name: str, repo: str) -> str:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as e:
        raise FetchError("the Python package 'huggingface_hub' is not installed "
                         "(pip install huggingface_hub)") from e
    target = root / "models" / name
    snapshot_download(repo_id=repo, local_dir=str(target), allow_patterns=MODEL_FILES,
                      token=os.environ.get("HF_TOKEN") or None)
    weights = sorted(p.name for p in target.glob("*.safetensors"))
    missing = [f for f in ("config.json",) if not (target / f).exists()]
    if not weights:
        missing.append("*.safetensors")
    if not (target / "tokenizer.json").exists() and not (target / "vocab.txt").exists() \
            and not (target / "vocab.json").exists():
        missing.append("tokenizer.json or vocabulary files")
    if missing:
        raise FetchError(f"{repo}: the snapshot lacks {', '.join(missing)}")
    return f"{repo}: {len(weights)} safetensors file(s)"


# ---- the list of items -----------------------------------------------------------------------


@dataclass
class Item:
    name: str
    fetch: Callable[[Path], str]
    outputs: list[str]  # paths under ROOT that exist once the item is complete


def items() -> list[Item]:
    out = [Item(f"model {name}", lambda root, n=name, r=repo: fetch_model(root, n, r),
                [f"models/{name}/config.json"]) for name, repo in MODELS.items()]
    out += [
        Item("imdb", fetch_imdb, ["data/aclImdb/train/pos", "data/aclImdb/test/neg"]),
        Item("rotten_tomatoes", fetch_rotten_tomatoes,
             ["data/rt-polaritydata/rt-polarity.pos", "data/rt-polaritydata/rt-polarity.neg"]),
        Item("amazon_polarity", fetch_amazon_polarity,
             ["data/amazon_polarity/train.csv", "data/amazon_polarity/test.csv"]),
        Item("glue/sst2", fetch_sst2, ["data/SST-2/train.tsv", "data/SST-2/dev.tsv", "data/SST-2/test.tsv"]),
        Item("tweet_eval/sentiment", fetch_tweet_eval,
             [f"data/tweet_eval/sentiment/{s}_{k}.txt" for s in ("train", "val", "test")
              for k in ("text", "labels")]),
        Item("ag_news", fetch_ag_news, ["data/ag_news/train.csv", "data/ag_news/test.csv"]),
    ]
    return out


def _reason(e: BaseException) -> str:
    if isinstance(e, FetchError):
        return str(e)
    text = f"{type(e).__name__}: {e}".strip().splitlines()
    first = text[0] if text else type(e).__name__
    hints = []
    lowered = " ".join(text).lower()
    if "offline" in lowered or "connection" in lowered or "resolve" in lowered \
            or "couldn't reach" in lowered or "network" in lowered:
        hints.append("no network access (or HF_HUB_OFFLINE / HF_DATASETS_OFFLINE is set)")
    if "gated" in lowered or "401" in lowered or "403" in lowered:
        hints.append("gated repository: accept its licence on the Hub and set HF_TOKEN")
    return first[:300] + (f" [{'; '.join(hints)}]" if hints else "")


def fetch_all(root: Path, only: list[str], force: bool) -> int:
    chosen = [it for it in items() if not only or any(o in it.name for o in only)]
    if not chosen:
        print(f"nothing matches --only {' '.join(only)}", file=sys.stderr)
        return 2
    fetched, skipped, failed = [], [], []
    for it in chosen:
        if not force and all((root / o).exists() for o in it.outputs):
            skipped.append(it.name)
            print(f"[skip] {it.name}: already present", flush=True)
            continue
        print(f"[....] {it.name}", flush=True)
        try:
            summary = it.fetch(root)
            fetched.append(it.name)
            print(f"[ ok ] {it.name}: {summary}", flush=True)
        except Exception as e:  # one item's failure must not stop the others
            failed.append((it.name, _reason(e)))
            print(f"[FAIL] {it.name}: {_reason(e)}", file=sys.stderr, flush=True)
            if os.environ.get("STRATA_FETCH_DEBUG"):
                traceback.print_exc()
    print(f"\nfetched {len(fetched)}, already present {len(skipped)}, "
          f"could not fetch {len(failed)} (root: {root})")
    for name, why in failed:
        print(f"  could not fetch {name}: {why}", file=sys.stderr)
    return 1 if failed else 0


# ---- export of any dataset to JSON lines --------------------------------------------------


def export_rows(rows: Iterable[dict], id_prefix: str, text_fields: list[str],
                label_field: str | None) -> Iterator[dict]:
    for index, row in enumerate(rows):
        missing = [f for f in text_fields if f not in row]
        if missing:
            raise FetchError(f"row {index} has no field {missing[0]!r} (fields: {', '.join(row)})")
        text = " ".join(str(row[f]) for f in text_fields)
        label = row.get(label_field) if label_field else None
        yield {"text": text, "label": label, "id": f"{id_prefix}/{index}"}


def export_jsonl(dataset: str, config: str | None, split: str, text_fields: list[str],
                 label_field: str | None, out: Path) -> int:
    rows = _load(dataset, config, split)
    prefix = "/".join(p for p in (dataset, config, split) if p)
    n = 0
    with _open_partial(out) as f:
        for record in export_rows(rows, prefix, text_fields, label_field):
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    _commit(_partial(out), out)
    return n


def main(argv: list[str]) -> int:
    if argv and argv[0] == "export-jsonl":
        p = argparse.ArgumentParser(prog="fetch_paper_inputs.py export-jsonl",
                                    description="Write a `datasets` dataset as JSON lines.")
        p.add_argument("dataset")
        p.add_argument("--config")
        p.add_argument("--split", default="train")
        p.add_argument("--text-field", action="append", dest="text_fields")
        p.add_argument("--label-field", default="label")
        p.add_argument("-o", "--output", required=True, type=Path)
        a = p.parse_args(argv[1:])
        try:
            n = export_jsonl(a.dataset, a.config, a.split, a.text_fields or ["text"],
                             a.label_field or None, a.output)
        except Exception as e:
            print(f"could not export {a.dataset} ({a.split}): {_reason(e)}", file=sys.stderr)
            return 1
        print(f"wrote {n} rows to {a.output}")
        return 0

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", type=Path, default=REPO_ROOT,
                   help="folder that receives models/ and data/ (default: the repository root)")
    p.add_argument("--only", nargs="*", default=[],
                   help="fetch only items whose name contains one of these words (e.g. imdb model)")
    p.add_argument("--force", action="store_true", help="fetch items that are already present")
    a = p.parse_args(argv)
    return fetch_all(a.root.resolve(), a.only, a.force)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

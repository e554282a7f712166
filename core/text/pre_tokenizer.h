#pragma once
// Pre-tokenizers of Hugging Face `tokenizers` (the `pre_tokenizer` section of tokenizer.json):
// they cut normalised text into the pieces the model tokenizes one by one.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace strata::text {

struct Piece {
  std::string text;
  bool at_text_start = false;  // begins at offset 0 of the original text (Metaspace "first")
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces each piece by its sub-pieces, in order; empty pieces are dropped.
  virtual void apply(std::vector<Piece>& pieces) const = 0;
};

// How the matched parts ("delimiters") of a split are kept (tokenizers' SplitDelimiterBehavior).
enum class SplitBehavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };

// Byte ranges of the pieces of a text of `size` bytes cut at the ranges `matches` (sorted,
// non-overlapping) according to `behavior`;
// with `invert` the matches are the parts to keep and the rest are the delimiters.
// Empty ranges are dropped.
std::vector<std::pair<std::size_t, std::size_t>> split_ranges(
    std::size_t size, const std::vector<std::pair<std::size_t, std::size_t>>& matches, SplitBehavior behavior,
    bool invert);
// The same, as the strings of the kept ranges.
std::vector<std::string> split_with_behavior(std::string_view text,
                                             const std::vector<std::pair<std::size_t, std::size_t>>& matches,
                                             SplitBehavior behavior, bool invert);

std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer();
std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex);

// Builds a pre-tokenizer from its json object; null gives nullptr.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j, const std::string& context);

// The GPT-2 pattern ByteLevel uses when use_regex is true.
inline constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

}  // namespace strata::text

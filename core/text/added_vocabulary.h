#pragma once
// Added tokens (special or not): found in the text before normalisation and pre-tokenization
// and mapped straight to their ids, with the lstrip / rstrip / single_word rules of `tokenizers`.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace strata::text {

struct AddedToken {
  std::string content;
  std::int32_t id = 0;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool normalized = false;  // matched in the normalised text rather than the raw text
};

// A stretch of text: either an added token (id set) or plain text to tokenize further.
struct TextSegment {
  std::size_t begin, end;
  std::optional<std::int32_t> token;
};

// Finds a set of added tokens in text: leftmost match first, the longest at one position.
class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // `patterns[k]` is what to look for (the token's content, normalised where it asks to be)
  // for `tokens[k]`.
  AddedTokenMatcher(std::vector<AddedToken> tokens, std::vector<std::string> patterns);
  bool empty() const { return tokens_.empty(); }
  std::vector<TextSegment> split(std::string_view text) const;

 private:
  std::vector<AddedToken> tokens_;
  std::vector<std::string> patterns_;
  // Candidate pattern indices by first byte, longest first.
  std::unordered_map<unsigned char, std::vector<std::size_t>> by_first_byte_;
};

}  // namespace strata::text

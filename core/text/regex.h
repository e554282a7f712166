#pragma once
// A compiled PCRE2 pattern (UTF + UCP, JIT when available) used to split text the way the
// Oniguruma regexes of Hugging Face `tokenizers` do. Immutable once built: safe to share.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::text {

class Regex {
 public:
  // `context` names where the pattern came from, for the error message.
  Regex(std::string_view pattern, std::string_view context);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Byte ranges [begin, end) of the successive non-overlapping matches in `text`
  // (valid UTF-8). Empty matches are skipped.
  std::vector<std::pair<std::size_t, std::size_t>> find_all(std::string_view text) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Code;
  std::string pattern_;
  std::unique_ptr<Code> code_;
};

// Rewrites \s, \S, \w and \W to the sets Oniguruma matches (PCRE2's \s lacks U+0085, its \w
// lacks combining marks), so a pattern written for `tokenizers` behaves the same under PCRE2.
std::string oniguruma_compatible(std::string_view pattern);

}  // namespace strata::text

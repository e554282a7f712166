#include "core/text/added_vocabulary.h"

#include <algorithm>

#include "core/text/unicode.h"
#include "core/text/utf8.h"

namespace strata::text {
namespace {

char32_t last_char(std::string_view s) {
  std::size_t i = s.size();
  while (i > 0 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) --i;
  if (i > 0) --i;
  return next_code_point(s, i);
}

// Start of the run of whitespace that ends `s`.
std::size_t trailing_space_start(std::string_view s) {
  std::size_t end = s.size();
  while (end > 0) {
    std::size_t b = end - 1;
    while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
    std::size_t i = b;
    if (!is_whitespace(next_code_point(s, i))) break;
    end = b;
  }
  return end;
}

// Length of the run of whitespace that starts `s`.
std::size_t leading_space_length(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    if (!is_whitespace(next_code_point(s, j))) break;
    i = j;
  }
  return i;
}

bool touches_word_before(std::string_view text, std::size_t pos) {
  return pos > 0 && is_regex_word_char(last_char(text.substr(0, pos)));
}

bool touches_word_after(std::string_view text, std::size_t pos) {
  return pos < text.size() && is_regex_word_char(next_code_point(text, pos));
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens, std::vector<std::string> patterns)
    : tokens_(std::move(tokens)), patterns_(std::move(patterns)) {
  for (std::size_t k = 0; k < patterns_.size(); ++k)
    if (!patterns_[k].empty()) by_first_byte_[static_cast<unsigned char>(patterns_[k][0])].push_back(k);
  for (auto& [byte, list] : by_first_byte_)
    std::stable_sort(list.begin(), list.end(),
                     [this](std::size_t a, std::size_t b) { return patterns_[a].size() > patterns_[b].size(); });
}

std::vector<TextSegment> AddedTokenMatcher::split(std::string_view text) const {
  std::vector<TextSegment> out;
  std::size_t done = 0;  // end of what has been emitted
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto it = by_first_byte_.find(static_cast<unsigned char>(text[pos]));
    std::optional<std::size_t> hit;  // the longest token starting here
    if (it != by_first_byte_.end()) {
      for (std::size_t k : it->second) {
        if (text.compare(pos, patterns_[k].size(), patterns_[k]) == 0) {
          hit = k;
          break;
        }
      }
    }
    if (!hit) {
      pos += utf8_sequence_length(static_cast<unsigned char>(text[pos]));
      continue;
    }
    const std::size_t match_end = pos + patterns_[*hit].size();
    // A single_word token touching a word character is no match; like `tokenizers`, the
    // search then resumes after it rather than trying shorter tokens here.
    if (tokens_[*hit].single_word && (touches_word_before(text, pos) || touches_word_after(text, match_end))) {
      pos = match_end;
      continue;
    }
    const AddedToken& t = tokens_[*hit];
    std::size_t begin = pos, stop = pos + patterns_[*hit].size();
    if (t.lstrip) begin = std::max(trailing_space_start(text.substr(0, begin)), done);
    if (t.rstrip) stop += leading_space_length(text.substr(stop));
    if (begin > done) out.push_back({done, begin, std::nullopt});
    out.push_back({begin, stop, t.id});
    done = pos = stop;
  }
  if (done < text.size()) out.push_back({done, text.size(), std::nullopt});
  return out;
}

}  // namespace strata::text

#pragma once
// UTF-8 helpers: repair of ill-formed input and code-point iteration.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::text {

// Replaces every ill-formed sequence by U+FFFD, one per maximal subpart, exactly as Python's
// bytes.decode('utf-8', errors='replace') does, so both sides tokenize the same string.
std::string repair_utf8(std::string_view bytes);

// True when the bytes are well-formed UTF-8 (no surrogates, no overlongs, <= U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

// Decodes one code point at s[i] (s must be valid UTF-8) and advances i past it.
char32_t next_code_point(std::string_view s, std::size_t& i);

// Appends the UTF-8 encoding of cp.
void append_utf8(std::string& out, char32_t cp);

// Length in bytes of the UTF-8 sequence starting with this lead byte (1 for stray bytes).
inline std::size_t utf8_sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

std::vector<char32_t> to_code_points(std::string_view s);
std::string from_code_points(const std::vector<char32_t>& cps);

}  // namespace strata::text

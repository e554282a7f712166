#include "core/data/text_encoding.h"

#include <cstdint>
#include <cstring>

#include "core/text/utf8.h"

namespace strata::data {

namespace {

bool is_python_space(char32_t cp) {
  if (cp == U' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F)) return true;
  switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

bool is_ascii(std::string_view bytes) {
  // Eight bytes at a time: any high bit set means a non-ASCII byte.
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    if (word & 0x8080808080808080ULL) return false;
  }
  for (; i < bytes.size(); ++i)
    if (static_cast<unsigned char>(bytes[i]) >= 0x80) return false;
  return true;
}

std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 8);
  for (char c : bytes) text::append_utf8(out, static_cast<unsigned char>(c));
  return out;
}

std::size_t count_code_points(std::string_view utf8) {
  std::size_t n = 0;
  for (char c : utf8)
    if (!is_continuation(c)) ++n;
  return n;
}

std::string_view strip_python_whitespace(std::string_view s) {
  std::size_t begin = 0;
  while (begin < s.size()) {
    std::size_t next = begin;
    if (!is_python_space(text::next_code_point(s, next))) break;
    begin = next;
  }
  std::size_t end = s.size();
  while (end > begin) {
    std::size_t start = end - 1;
    while (start > begin && is_continuation(s[start])) --start;
    std::size_t next = start;
    if (!is_python_space(text::next_code_point(s, next))) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

}  // namespace strata::data

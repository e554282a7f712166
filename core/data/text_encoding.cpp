#include "core/data/text_encoding.h"

#include <cstdint>

namespace strata::data {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the sequence a lead byte announces; 0 for a byte that cannot start one.
int sequence_length(unsigned char b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}

// The second byte's allowed range depends on the lead byte (no overlongs, no surrogates,
// nothing above U+10FFFF); later bytes are plain continuation bytes 80..BF.
bool valid_second(unsigned char lead, unsigned char b) {
  switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return b >= 0x80 && b <= 0xBF;
  }
}

// Bytes of the valid sequence starting at `i`, or minus the length of the maximal invalid
// subpart to replace (at least 1).
long scan_sequence(std::string_view s, std::size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  const int len = sequence_length(lead);
  if (len == 0) return -1;
  for (int k = 1; k < len; ++k) {
    if (i + k >= s.size()) return -k;
    const auto b = static_cast<unsigned char>(s[i + k]);
    const bool ok = k == 1 ? valid_second(lead, b) : (b >= 0x80 && b <= 0xBF);
    if (!ok) return -k;
  }
  return len;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes the valid sequence of `len` bytes at `i`.
std::uint32_t decode_at(std::string_view s, std::size_t i, long len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (len == 1) return b0;
  std::uint32_t cp = b0 & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (long k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

bool is_python_space(std::uint32_t cp) {
  if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F)) return true;
  switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

}  // namespace

std::string repair_utf8(std::string_view bytes, std::size_t* replaced) {
  std::size_t count = 0;
  if (is_valid_utf8(bytes)) {
    if (replaced) *replaced = 0;
    return std::string(bytes);
  }
  std::string out;
  out.reserve(bytes.size() + 8);
  std::size_t i = 0;
  while (i < bytes.size()) {
    const long n = scan_sequence(bytes, i);
    if (n > 0) {
      out.append(bytes.substr(i, static_cast<std::size_t>(n)));
      i += static_cast<std::size_t>(n);
    } else {
      out.append(kReplacement);
      ++count;
      i += static_cast<std::size_t>(-n);
    }
  }
  if (replaced) *replaced = count;
  return out;
}

bool is_valid_utf8(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (static_cast<unsigned char>(bytes[i]) < 0x80) {  // fast path for ASCII
      ++i;
      continue;
    }
    const long n = scan_sequence(bytes, i);
    if (n <= 0) return false;
    i += static_cast<std::size_t>(n);
  }
  return true;
}

std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 8);
  for (char c : bytes) append_utf8(out, static_cast<unsigned char>(c));
  return out;
}

std::size_t count_code_points(std::string_view utf8) {
  std::size_t n = 0;
  for (char c : utf8)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

std::string_view strip_python_whitespace(std::string_view s) {
  // Leading: decode forward.
  std::size_t begin = 0;
  while (begin < s.size()) {
    const long n = scan_sequence(s, begin);
    if (n <= 0 || !is_python_space(decode_at(s, begin, n))) break;
    begin += static_cast<std::size_t>(n);
  }
  // Trailing: step back to each code point's lead byte.
  std::size_t end = s.size();
  while (end > begin) {
    std::size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    const long n = scan_sequence(s, start);
    if (n <= 0 || start + static_cast<std::size_t>(n) != end ||
        !is_python_space(decode_at(s, start, n)))
      break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

}  // namespace strata::data

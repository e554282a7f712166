#include "core/text/utf8.h"

namespace strata::text {
namespace {

// Allowed range of the second byte for each lead byte (Unicode Table 3-7); later bytes
// are always 0x80..0xBF. Returns the sequence length, 0 for a byte that cannot start one.
std::size_t expected_length(unsigned char lead, unsigned char& lo, unsigned char& hi) {
  lo = 0x80;
  hi = 0xBF;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead == 0xE0) { lo = 0xA0; return 3; }
  if (lead == 0xED) { hi = 0x9F; return 3; }
  if (lead >= 0xE1 && lead <= 0xEF) return 3;
  if (lead == 0xF0) { lo = 0x90; return 4; }
  if (lead >= 0xF1 && lead <= 0xF3) return 4;
  if (lead == 0xF4) { hi = 0x8F; return 4; }
  return 0;
}

// Number of bytes of a well-formed sequence at s[i], or 0 when ill-formed; in that case
// `subpart` is the length of the maximal subpart to replace by a single U+FFFD.
std::size_t well_formed_at(std::string_view s, std::size_t i, std::size_t& subpart) {
  const auto lead = static_cast<unsigned char>(s[i]);
  unsigned char lo = 0, hi = 0;
  const std::size_t n = expected_length(lead, lo, hi);
  if (n == 0) {
    subpart = 1;
    return 0;
  }
  for (std::size_t k = 1; k < n; ++k) {
    if (i + k >= s.size()) {
      subpart = k;
      return 0;
    }
    const auto b = static_cast<unsigned char>(s[i + k]);
    const unsigned char min = k == 1 ? lo : 0x80;
    const unsigned char max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) {
      subpart = k;
      return 0;
    }
  }
  return n;
}

}  // namespace

std::string repair_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t subpart = 0;
    const std::size_t n = well_formed_at(bytes, i, subpart);
    if (n > 0) {
      out.append(bytes.substr(i, n));
      i += n;
    } else {
      out.append("\xEF\xBF\xBD");
      i += subpart;
    }
  }
  return out;
}

bool is_valid_utf8(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t subpart = 0;
    const std::size_t n = well_formed_at(bytes, i, subpart);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  const std::size_t n = utf8_sequence_length(lead);
  if (n == 1 || i + n > s.size()) {
    ++i;
    return lead;
  }
  char32_t cp = n == 2 ? (lead & 0x1F) : n == 3 ? (lead & 0x0F) : (lead & 0x07);
  for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
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

std::vector<char32_t> to_code_points(std::string_view s) {
  std::vector<char32_t> cps;
  cps.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) cps.push_back(next_code_point(s, i));
  return cps;
}

std::string from_code_points(const std::vector<char32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t cp : cps) append_utf8(out, cp);
  return out;
}

}  // namespace strata::text

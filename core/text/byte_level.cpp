#include "core/text/byte_level.h"

#include <array>

#include "core/text/utf8.h"

namespace strata::text {
namespace {

struct ByteTable {
  std::array<char32_t, 256> chars{};
  std::array<std::string, 256> utf8;
  ByteTable() {
    auto printable = [](int b) {
      return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      chars[b] = printable(b) ? static_cast<char32_t>(b) : next++;
      append_utf8(utf8[b], chars[b]);
    }
  }
};

const ByteTable& table() {
  static const ByteTable t;
  return t;
}

}  // namespace

char32_t byte_to_char(unsigned char b) { return table().chars[b]; }

std::string bytes_to_mapped_text(std::string_view bytes) {
  const auto& t = table();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += t.utf8[b];
  return out;
}

}  // namespace strata::text

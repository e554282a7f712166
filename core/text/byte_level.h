#pragma once
// GPT-2's reversible byte-to-character mapping: printable Latin-1 bytes map to themselves,
// the others to code points from U+0100 on, so every byte string becomes printable text.
#include <string>
#include <string_view>

namespace strata::text {

// The code point byte b maps to.
char32_t byte_to_char(unsigned char b);
// Maps every byte of `bytes` and returns the UTF-8 text of the mapped characters.
std::string bytes_to_mapped_text(std::string_view bytes);

}  // namespace strata::text

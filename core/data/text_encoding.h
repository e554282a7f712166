#pragma once
// Byte-level text helpers shared by the corpus readers: UTF-8 repair, Latin-1 decoding,
// code-point counting and Python's str.strip().
#include <cstddef>
#include <string>
#include <string_view>

namespace strata::data {

// Returns `bytes` as valid UTF-8. Each maximal invalid subpart (an invalid byte, or a
// truncated/ill-formed multi-byte sequence up to the byte where it stops being valid) becomes
// one U+FFFD, as Python's bytes.decode("utf-8", errors="replace") does. `replaced`, when
// given, receives the number of U+FFFD written.
std::string repair_utf8(std::string_view bytes, std::size_t* replaced = nullptr);

bool is_valid_utf8(std::string_view bytes);

// Each byte is the code point of the same value (ISO-8859-1), written as UTF-8.
std::string latin1_to_utf8(std::string_view bytes);

// Number of code points in valid UTF-8 (the length Python's len() gives).
std::size_t count_code_points(std::string_view utf8);

// Python's str.strip() with no argument: removes leading and trailing characters for which
// str.isspace() is true (ASCII whitespace, U+001C..U+001F, U+0085, U+00A0 and the Unicode
// space separators U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000).
std::string_view strip_python_whitespace(std::string_view utf8);

}  // namespace strata::data

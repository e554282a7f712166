#pragma once
// Text functions of the corpus readers: Latin-1 decoding, code-point counting and Python's
// str.strip(). UTF-8 repair itself is strata::text::repair_utf8 (core/text/utf8.h).
#include <cstddef>
#include <string>
#include <string_view>

namespace strata::data {

// True when every byte is below 0x80 (then the text is valid UTF-8): a fast first check.
bool is_ascii(std::string_view bytes);

// Each byte is the code point of the same value (ISO-8859-1), written as UTF-8.
std::string latin1_to_utf8(std::string_view bytes);

// Number of code points in valid UTF-8 (the length Python's len() gives).
std::size_t count_code_points(std::string_view utf8);

// Python's str.strip() with no argument, on valid UTF-8: removes leading and trailing
// characters for which str.isspace() is true (ASCII whitespace, U+001C..U+001F, U+0085,
// U+00A0 and the Unicode space separators U+1680, U+2000..U+200A, U+2028, U+2029, U+202F,
// U+205F, U+3000).
std::string_view strip_python_whitespace(std::string_view utf8);

}  // namespace strata::data

#include "core/data/text_encoding.h"
#include "core/text/utf8.h"

#include "tests/catch.hpp"

using strata::text::is_valid_utf8;
using strata::text::repair_utf8;
using namespace strata::data;

namespace {
const std::string kFffd = "\xEF\xBF\xBD";
}

TEST_CASE("valid UTF-8 passes unchanged", "[data][utf8]") {
  const std::string s = "caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80 plain";
  CHECK(repair_utf8(s) == s);
  CHECK(is_valid_utf8(s));
}

// The readers rely on this contract of strata::text::repair_utf8.
TEST_CASE("invalid UTF-8 is repaired as Python's errors='replace'", "[data][utf8]") {
  // Expected strings are what bytes.decode('utf-8', 'replace') gives in CPython.
  struct Case { std::string in, out; };
  const Case cases[] = {
      {"a\xFF" "b", "a" + kFffd + "b"},                  // invalid byte
      {"a\x80\x80" "b", "a" + kFffd + kFffd + "b"},     // lone continuation bytes
      {"\xC3", kFffd},                                  // truncated at the end
      {"\xE4\xB8" "x", kFffd + "x"},                    // truncated 3-byte sequence: one
      {"\xF0\x9F\x98", kFffd},                          // truncated 4-byte sequence: one
      {"\xC0\xAF", kFffd + kFffd},                      // overlong lead bytes
      {"\xE0\x80\xAF", kFffd + kFffd + kFffd},          // overlong 3-byte
      {"\xED\xA0\x80", kFffd + kFffd + kFffd},          // surrogate
      {"\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd},  // above U+10FFFF
      {"\xF5" "z", kFffd + "z"},
  };
  for (const auto& c : cases) {
    CHECK(repair_utf8(c.in) == c.out);
    CHECK_FALSE(is_valid_utf8(c.in));
    CHECK(is_valid_utf8(c.out));
  }
}

TEST_CASE("Latin-1 bytes become their code points", "[data][utf8]") {
  CHECK(latin1_to_utf8("caf\xE9 \xA0\xFF") == "caf\xC3\xA9 \xC2\xA0\xC3\xBF");
  CHECK(latin1_to_utf8("ascii") == "ascii");
}

TEST_CASE("code points and Python strip", "[data][utf8]") {
  CHECK(count_code_points("caf\xC3\xA9\xF0\x9F\x98\x80") == 5);
  CHECK(strip_python_whitespace("  \t a b \n") == "a b");
  CHECK(strip_python_whitespace("\xC2\xA0x\xE3\x80\x80") == "x");  // U+00A0, U+3000
  CHECK(strip_python_whitespace("\xC3\xA9") == "\xC3\xA9");         // é is not space
  CHECK(strip_python_whitespace("   ").empty());
}

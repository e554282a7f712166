// Sweep files with non-ASCII characters anywhere: the TOML parser's whitespace test answers from
// toml++'s list of horizontal whitespace for every code point (no undefined-behaviour branch),
// so such files parse, or fail with the file, line and column, like any other.
#include <set>
#include <string>

#include "core/spec/document.h"
#include "core/spec/toml.h"
#include "core/util/error.h"
#include "tests/catch.hpp"

namespace {

strata::spec::Reader read(const std::string& text) { return strata::spec::Reader::from_toml(text, "s.toml"); }

}  // namespace

TEST_CASE("toml: the non-ASCII whitespace test answers for every code point", "[toml]") {
  // toml++'s generated list: 20 code units from 8 ranges.
  const std::set<char32_t> listed = {0xA0,   0x1680, 0x180E, 0x2000, 0x2001, 0x2002, 0x2003,
                                     0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
                                     0x200B, 0x202F, 0x205F, 0x2060, 0x3000, 0xFEFF};
  int mismatches = 0, found = 0;
  for (char32_t c = 0; c < 0x110000; ++c) {
    const bool ws = toml::impl::is_non_ascii_horizontal_whitespace(c);
    found += ws;
    mismatches += ws != (listed.count(c) == 1);
  }
  CHECK(found == 20);
  CHECK(mismatches == 0);
}

TEST_CASE("toml: non-ASCII characters outside strings give a placed error", "[toml]") {
  using strata::test::HasSubstring;
  CHECK_THROWS_WITH(read("a = 1\nb = 2 \xc3\xa9\n"), HasSubstring("s.toml:2:"));
  CHECK_THROWS_WITH(read("k\xc3\xa9y = 1\n"), HasSubstring("s.toml:1:"));
  CHECK_THROWS_WITH(read("a = \xd0\x96\n"), HasSubstring("s.toml:1:"));
  CHECK_THROWS_WITH(read("a = 3'\xe3\x80\x81'\n"), HasSubstring("s.toml:1:"));  // U+3001 in a bare value
  CHECK_THROWS_WITH(read("a = \"x\"\xef\xbb\xb7\n"), HasSubstring("s.toml:1:"));  // U+FEF7 after a string
  CHECK_THROWS_WITH(read("s = \"\"\"\\\xc3\xa9\"\"\"\n"), HasSubstring("s.toml:1:"));  // an escape of a non-ASCII character
  CHECK_THROWS_WITH(read("a = 1\xc2\xa0\n"), HasSubstring("s.toml:1:"));  // no-break space: whitespace TOML refuses
  CHECK_THROWS_AS(read("\xcc\xaa"), strata::InputError);
}

TEST_CASE("toml: non-ASCII characters in strings and comments are read", "[toml]") {
  const auto r = read("# caf\xc3\xa9\nname = \"caf\xc3\xa9\" # \xe2\x80\x94\nl = 'lit\xd0\x96'\n"
                      "m = \"\"\"\\\n   \xc2\xa7 after a line-ending backslash\"\"\"\n");
  CHECK(r.root()["name"] == "caf\xc3\xa9");
  CHECK(r.root()["l"] == "lit\xd0\x96");
  CHECK(r.root()["m"] == "\xc2\xa7 after a line-ending backslash");
}

#include <set>

#include "core/text/byte_level.h"
#include "core/text/normalizer.h"
#include "core/text/unicode.h"
#include "core/text/utf8.h"
#include "tests/catch.hpp"

using namespace strata::text;

namespace {
const std::string kFffd = "\xEF\xBF\xBD";
}

TEST_CASE("repair_utf8 replaces each maximal ill-formed subpart like Python's errors='replace'", "[text]") {
  CHECK(repair_utf8("plain ascii") == "plain ascii");
  CHECK(repair_utf8("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(repair_utf8("\xFF") == kFffd);
  CHECK(repair_utf8("a\xE6\x97" "b") == "a" + kFffd + "b");            // truncated 3-byte sequence
  CHECK(repair_utf8("\x80\x80") == kFffd + kFffd);                      // lone continuation bytes
  CHECK(repair_utf8("\xC0\xAF") == kFffd + kFffd);                      // overlong lead is invalid alone
  CHECK(repair_utf8("\xED\xA0\x80") == kFffd + kFffd + kFffd);          // UTF-16 surrogate
  CHECK(repair_utf8("\xF0\x9F\x98") == kFffd);                          // cut 4-byte emoji
  CHECK(repair_utf8("\xF4\x90\x80\x80") == kFffd + kFffd + kFffd + kFffd);  // above U+10FFFF
  CHECK(repair_utf8("caf\xE9 x") == "caf" + kFffd + " x");              // Latin-1 byte
  CHECK(repair_utf8(std::string("\0a", 2)) == std::string("\0a", 2));
}

TEST_CASE("is_valid_utf8 and code point round trip", "[text]") {
  CHECK(is_valid_utf8("\xF0\x9F\x98\x80 \xE4\xB8\xAD"));
  CHECK_FALSE(is_valid_utf8("\xE4\xB8"));
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));
  const std::string s = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";
  const auto cps = to_code_points(s);
  REQUIRE(cps.size() == 4);
  CHECK(cps[1] == 0xE9);
  CHECK(cps[2] == 0x4E2D);
  CHECK(cps[3] == 0x1F600);
  CHECK(from_code_points(cps) == s);
}

TEST_CASE("GPT-2 byte-level mapping", "[text]") {
  CHECK(byte_to_char('a') == U'a');
  CHECK(byte_to_char('!') == U'!');
  CHECK(byte_to_char(0) == 0x100);
  CHECK(byte_to_char(' ') == 0x120);   // the familiar "Ġ"
  CHECK(byte_to_char('\n') == 0x10A);  // "Ċ"
  CHECK(byte_to_char(0x7F) == 0x121);
  CHECK(byte_to_char(0xAD) == 0x143);
  CHECK(byte_to_char(0xFF) == 0xFF);
  CHECK(bytes_to_mapped_text(" hi") == "\xC4\xA0hi");
  // The mapping is a bijection onto 256 distinct characters.
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) seen.insert(byte_to_char(static_cast<unsigned char>(b)));
  CHECK(seen.size() == 256);
}

TEST_CASE("BERT normaliser: control characters, whitespace, CJK, accents, case", "[text]") {
  CHECK(bert_clean_text("a\x01" "b\tc\r\nd\xE2\x80\x8B" "e" + kFffd) == "ab c  de");  // ZWSP is Cf
  CHECK(bert_clean_text("no\xC2\xA0" "break") == "no break");
  CHECK(bert_pad_cjk("ab\xE4\xB8\xAD\xE6\x96\x87") == "ab \xE4\xB8\xAD  \xE6\x96\x87 ");
  CHECK(bert_pad_cjk("\xED\x95\x9C") == "\xED\x95\x9C");  // Hangul is not in the CJK blocks
  const auto uncased = make_bert_normalizer({});
  CHECK(uncased->normalize("H\xC3\xA9llo W\xC3\x96RLD") == "hello world");
  CHECK(uncased->normalize("e\xCC\x81") == "e");  // combining acute removed after NFD
  BertNormalizerOptions keep;
  keep.strip_accents = false;
  CHECK(make_bert_normalizer(keep)->normalize("\xC3\x89t\xC3\xA9") == "\xC3\xA9t\xC3\xA9");
  BertNormalizerOptions cased;
  cased.lowercase = false;
  cased.strip_accents = false;
  CHECK(make_bert_normalizer(cased)->normalize("\xC3\x89t\xC3\xA9") == "\xC3\x89t\xC3\xA9");
}

TEST_CASE("lowercase uses full mappings and normal forms come from utf8proc", "[text]") {
  CHECK(lowercase("\xC4\xB0") == "i\xCC\x87");                  // U+0130 -> i + U+0307
  CHECK(lowercase("\xCE\xA3\xCE\x91") == "\xCF\x83\xCE\xB1");   // no final-sigma rule
  CHECK(normalize_form("e\xCC\x81", NormalForm::nfc) == "\xC3\xA9");
  CHECK(normalize_form("\xC3\xA9", NormalForm::nfd) == "e\xCC\x81");
  CHECK(normalize_form("\xEF\xAC\x81", NormalForm::nfkc) == "fi");
  CHECK(is_whitespace(0x85));
  CHECK_FALSE(is_whitespace(0x200B));
  CHECK(is_punctuation('$'));   // ASCII punctuation although Unicode calls it a symbol
  CHECK_FALSE(is_punctuation(0x20AC));
}

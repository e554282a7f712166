#include "core/text/model.h"
#include "core/text/pre_tokenizer.h"
#include "core/text/regex.h"
#include "core/util/error.h"
#include "tests/catch.hpp"

using namespace strata::text;

namespace {

Vocab vocab_of(std::initializer_list<const char*> tokens) {
  Vocab v;
  std::int32_t id = 0;
  for (const char* t : tokens) v.emplace(t, id++);
  return v;
}

std::vector<std::int32_t> run(const Model& m, std::string_view word) {
  std::vector<std::int32_t> ids;
  m.tokenize(word, ids);
  return ids;
}

std::vector<std::string> pieces_of(const PreTokenizer& p, const std::string& text) {
  std::vector<Piece> pieces{{text, true}};
  p.apply(pieces);
  std::vector<std::string> out;
  for (auto& x : pieces) out.push_back(x.text);
  return out;
}

}  // namespace

TEST_CASE("WordPiece takes the longest match first, then continues with ## pieces", "[text]") {
  //                         0       1     2       3        4      5     6      7
  const auto wp = make_wordpiece(vocab_of({"[UNK]", "un", "unaff", "##able", "##aff", "a", "##b", "##a"}), {}, "test");
  CHECK(run(*wp, "unaffable") == std::vector<std::int32_t>{2, 3});
  CHECK(run(*wp, "aba") == std::vector<std::int32_t>{5, 6, 7});
  CHECK(run(*wp, "unx") == std::vector<std::int32_t>{0});  // one unmatched position: whole word unknown
  WordPieceOptions short_words;
  short_words.max_input_chars_per_word = 3;
  const auto wp3 = make_wordpiece(vocab_of({"[UNK]", "a", "##a"}), short_words, "test");
  CHECK(run(*wp3, "aaa") == std::vector<std::int32_t>{1, 2, 2});
  CHECK(run(*wp3, "aaaa") == std::vector<std::int32_t>{0});
  CHECK_THROWS_AS(make_wordpiece(vocab_of({"a"}), {}, "test"), strata::InputError);
}

TEST_CASE("BPE applies merges by rank, leftmost first", "[text]") {
  const auto v = vocab_of({"a", "b", "c", "ab", "bc", "abc", "aa"});
  // "b c" ranks before "a b": abc -> a + bc -> abc
  const auto m1 = make_bpe(v, {{"b", "c"}, {"a", "b"}, {"a", "bc"}}, {}, "test");
  CHECK(run(*m1, "abc") == std::vector<std::int32_t>{5});
  CHECK(run(*m1, "ab") == std::vector<std::int32_t>{3});
  // Without a merge to finish, rank order decides the split.
  const auto m2 = make_bpe(v, {{"b", "c"}, {"a", "b"}}, {}, "test");
  CHECK(run(*m2, "abc") == std::vector<std::int32_t>{0, 4});
  const auto m3 = make_bpe(v, {{"a", "b"}, {"b", "c"}}, {}, "test");
  CHECK(run(*m3, "abc") == std::vector<std::int32_t>{3, 2});
  // Overlapping pairs: the leftmost merges first.
  const auto m4 = make_bpe(v, {{"a", "a"}}, {}, "test");
  CHECK(run(*m4, "aaa") == std::vector<std::int32_t>{6, 0});
}

TEST_CASE("BPE unknown characters, byte fallback and ignore_merges", "[text]") {
  auto v = vocab_of({"<unk>", "a", "b", "ab", "<0xC3>", "<0xA9>"});
  BpeOptions o;
  o.unk_token = "<unk>";
  CHECK(run(*make_bpe(v, {{"a", "b"}}, o, "test"), "axxb") == std::vector<std::int32_t>{1, 0, 0, 2});
  o.fuse_unk = true;
  CHECK(run(*make_bpe(v, {{"a", "b"}}, o, "test"), "axxb") == std::vector<std::int32_t>{1, 0, 2});
  o.byte_fallback = true;
  CHECK(run(*make_bpe(v, {{"a", "b"}}, o, "test"), "a\xC3\xA9") == std::vector<std::int32_t>{1, 4, 5});
  // ignore_merges: a word already in the vocabulary is one token even without a merge path.
  auto v2 = vocab_of({"a", "b", "c", "abc"});
  BpeOptions im;
  CHECK(run(*make_bpe(v2, {}, im, "test"), "abc") == std::vector<std::int32_t>{0, 1, 2});
  im.ignore_merges = true;
  CHECK(run(*make_bpe(v2, {}, im, "test"), "abc") == std::vector<std::int32_t>{3});
  CHECK_THROWS_AS(make_bpe(v2, {{"a", "z"}}, im, "test"), strata::InputError);
}

TEST_CASE("split behaviours match tokenizers' SplitDelimiterBehavior", "[text]") {
  const std::string t = "a--b-c";
  const std::vector<std::pair<std::size_t, std::size_t>> dashes{{1, 2}, {2, 3}, {4, 5}};
  using V = std::vector<std::string>;
  CHECK(split_with_behavior(t, dashes, SplitBehavior::removed, false) == V{"a", "b", "c"});
  CHECK(split_with_behavior(t, dashes, SplitBehavior::isolated, false) == V{"a", "-", "-", "b", "-", "c"});
  CHECK(split_with_behavior(t, dashes, SplitBehavior::contiguous, false) == V{"a", "--", "b", "-", "c"});
  CHECK(split_with_behavior(t, dashes, SplitBehavior::merged_with_previous, false) == V{"a-", "-", "b-", "c"});
  CHECK(split_with_behavior(t, dashes, SplitBehavior::merged_with_next, false) == V{"a", "-", "-b", "-c"});
  CHECK(split_with_behavior(t, dashes, SplitBehavior::removed, true) == V{"-", "-", "-"});
}

TEST_CASE("GPT-2 regex and BERT pre-tokenizer pieces", "[text]") {
  const Regex gpt2(kGpt2Pattern, "test");
  const auto m = gpt2.find_all("Hello  world's 42!");
  std::vector<std::string> got;
  for (auto [b, e] : m) got.push_back(std::string("Hello  world's 42!").substr(b, e - b));
  CHECK(got == std::vector<std::string>{"Hello", " ", " world", "'s", " 42", "!"});
  // \s follows Oniguruma's White_Space set, which includes U+0085.
  CHECK(Regex(R"(\s+)", "test").find_all("a\xC2\x85" "b").size() == 1);
  CHECK(pieces_of(*make_bert_pre_tokenizer(), "Hello,  world!! x") ==
        std::vector<std::string>{"Hello", ",", "world", "!", "!", "x"});
  const auto bl = make_byte_level_pre_tokenizer(true, true);
  CHECK(pieces_of(*bl, "hi there") == std::vector<std::string>{"\xC4\xA0hi", "\xC4\xA0there"});
  CHECK_THROWS_AS(Regex("(unclosed", "test"), strata::InputError);
}

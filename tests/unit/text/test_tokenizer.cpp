#include "core/text/tokenizer.h"

#include <functional>

#include "core/util/error.h"
#include "core/util/hash.h"
#include "tests/catch.hpp"
#include "tests/unit/text/text_fixtures.h"

using strata::test::HasSubstring;
using strata::InputError;
using strata::test::text_scratch_dir;
using strata::test::write_text_file;
using strata::text::Tokenizer;

namespace {

using Ids = std::vector<std::int32_t>;

const char* kBertJson = R"({
  "version": "1.0", "truncation": null, "padding": null,
  "added_tokens": [
    {"id": 0, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 1, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 2, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 3, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
  "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
  "pre_tokenizer": {"type": "BertPreTokenizer"},
  "post_processor": {"type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
    "pair": [],
    "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]}, "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
  "decoder": null,
  "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
    "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, "world": 5, "!": 6, "un": 7, "##known": 8}}
})";

std::filesystem::path bert_snapshot(const std::string& name) {
  const auto dir = text_scratch_dir(name);
  write_text_file(dir / "tokenizer.json", kBertJson);
  return dir;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("Tokenizer from tokenizer.json: pipeline, template and truncation", "[text]") {
  const auto tok = Tokenizer::from_dir(bert_snapshot("pipeline"));
  CHECK(tok.encode("H\xC3\xA9llo WORLD! unknown [SEP]") == Ids{2, 4, 5, 6, 7, 8, 3, 3});
  CHECK(tok.encode("hello world", false) == Ids{4, 5});
  CHECK(tok.encode("hello zzz") == Ids{2, 4, 1, 3});
  CHECK(tok.encode("") == Ids{2, 3});
  // Truncation keeps room for [CLS] and [SEP].
  CHECK(tok.encode("hello world ! hello", true, 4) == Ids{2, 4, 5, 3});
  CHECK(tok.encode("hello world ! hello", false, 3) == Ids{4, 5, 6});
  CHECK(tok.encode("hello world", true, 2) == Ids{2, 3});
  CHECK(tok.encode("hello world", true, 1) == Ids{2, 4, 5, 3});  // below the specials: untruncated
  // Invalid UTF-8 is repaired (U+FFFD, which the BERT normaliser then drops), never fatal.
  CHECK(tok.encode("hello\xFF\xFEworld") == Ids{2, 1, 3});
  CHECK(tok.encode("hello \xE6\x97 world") == Ids{2, 4, 5, 3});
  CHECK(tok.token_to_id("[SEP]") == 3);
  CHECK(tok.token_to_id("##known") == 8);
  CHECK_FALSE(tok.token_to_id("nope").has_value());
  CHECK(tok.vocab_size() == 9);
  CHECK_FALSE(tok.pad_id().has_value());
  CHECK(tok.hash().size() == 64);
}

TEST_CASE("pad id comes from padding, else tokenizer_config.json", "[text]") {
  const auto dir = bert_snapshot("pad");
  write_text_file(dir / "tokenizer_config.json", R"({"pad_token": "[PAD]"})");
  const auto tok = Tokenizer::from_dir(dir);
  CHECK(tok.pad_id() == 0);
  const auto plain = Tokenizer::from_dir(bert_snapshot("pad-none"));
  CHECK(tok.hash() != plain.hash());  // the config file is part of what was loaded
  std::string with_padding = kBertJson;
  with_padding.replace(with_padding.find("\"padding\": null"), 15,
                       R"("padding": {"strategy": "BatchLongest", "pad_id": 3, "pad_token": "[SEP]"})");
  const auto dir2 = text_scratch_dir("pad-json");
  write_text_file(dir2 / "tokenizer.json", with_padding);
  CHECK(Tokenizer::from_json_file(dir2 / "tokenizer.json").pad_id() == 3);
}

TEST_CASE("truncation direction and hash follow the loaded file", "[text]") {
  std::string left = kBertJson;
  left.replace(left.find("\"truncation\": null"), 18,
               R"("truncation": {"direction": "Left", "max_length": 512, "strategy": "LongestFirst", "stride": 0})");
  const auto dir = text_scratch_dir("left");
  write_text_file(dir / "tokenizer.json", left);
  const auto tok = Tokenizer::from_json_file(dir / "tokenizer.json");
  CHECK(tok.encode("hello world ! hello", false, 2) == Ids{6, 4});
  CHECK(tok.encode("hello world ! hello", true, 4) == Ids{2, 6, 4, 3});
  CHECK(tok.hash() == strata::sha256_file(dir / "tokenizer.json"));
}

TEST_CASE("vocab.txt snapshots load as BERT WordPiece", "[text]") {
  const auto dir = text_scratch_dir("vocab-txt");
  write_text_file(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\n!\nun\n##known\n");
  const auto tok = Tokenizer::from_dir(dir);
  const auto json_tok = Tokenizer::from_dir(bert_snapshot("vocab-json"));
  for (const char* text : {"H\xC3\xA9llo WORLD! unknown [SEP]", "hello zzz", "", "[CLS]hello[PAD]"})
    CHECK(tok.encode(text) == json_tok.encode(text));
  CHECK(tok.pad_id() == 0);
  write_text_file(dir / "tokenizer_config.json", R"({"do_lower_case": false})");
  CHECK(Tokenizer::from_dir(dir).encode("Hello hello", false) == Ids{1, 4});
}

TEST_CASE("encode_batch with threads equals one-by-one encoding", "[text]") {
  const auto tok = Tokenizer::from_dir(bert_snapshot("threads"));
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back(std::string(static_cast<std::size_t>(i % 7), 'x') + " hello world! " + std::to_string(i));
  const auto batch = tok.encode_batch(texts, true, 6, 4);
  REQUIRE(batch.size() == texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) CHECK(batch[i] == tok.encode(texts[i], true, 6));
  CHECK(tok.encode_batch({}, true, 0, 3).empty());
}

TEST_CASE("bad tokenizer files are input errors naming the file and the field", "[text]") {
  const auto dir = text_scratch_dir("bad");
  write_text_file(dir / "tokenizer.json", R"({"model": {"type": "Unigram", "vocab": []}})");
  CHECK_THAT(error_of([&] { Tokenizer::from_dir(dir); }), HasSubstring("tokenizer.json: model.type 'Unigram' is not supported"));
  write_text_file(dir / "tokenizer.json", "{\"model\": ");
  CHECK_THAT(error_of([&] { Tokenizer::from_dir(dir); }), HasSubstring("tokenizer.json: malformed JSON"));
  write_text_file(dir / "tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})");
  CHECK_THAT(error_of([&] { Tokenizer::from_dir(dir); }), HasSubstring("merge 0 'a b'"));
  write_text_file(dir / "tokenizer.json",
                  R"({"normalizer": {"type": "Precompiled"}, "model": {"type": "BPE", "vocab": {}, "merges": []}})");
  CHECK_THAT(error_of([&] { Tokenizer::from_dir(dir); }), HasSubstring("normalizer.type 'Precompiled' is not supported"));
  CHECK_THAT(error_of([&] { Tokenizer::from_json_file(dir / "missing.json"); }), HasSubstring("missing.json: cannot open"));
  const auto empty = text_scratch_dir("empty");
  CHECK_THAT(error_of([&] { Tokenizer::from_dir(empty); }), HasSubstring("no tokenizer.json"));
}

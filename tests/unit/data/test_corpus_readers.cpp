#include "core/data/corpus_readers.h"

#include <algorithm>

#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/unit/data/data_fixtures.h"

using strata::test::HasSubstring;
using strata::Corpus;
using strata::InputError;
using strata::SourceSpec;
using strata::test::capture_stderr;
using strata::test::scratch_dir;
using strata::test::write_bytes;

namespace {

const std::string kFffd = "\xEF\xBF\xBD";

SourceSpec spec_of(const std::string& name, const std::string& format,
                   const std::filesystem::path& path, const std::string& split = "train") {
  SourceSpec s;
  s.name = name;
  s.format = format;
  s.path = path;
  s.split = split;
  return s;
}

// The message of reading `contents`, written as dir/<split><extension>, as split `split` of a
// `format` release in dir ("" when it reads).
std::string error_reading(const std::filesystem::path& dir, const std::string& format, const std::string& split,
                          const std::string& extension, const std::string& contents) {
  write_bytes(dir / (split + extension), contents);
  try {
    strata::read_source(spec_of("x", format, dir, split));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("aclImdb: neg then pos, files in numeric order, text as released", "[data][readers]") {
  const auto root = scratch_dir("aclimdb") / "aclImdb";
  write_bytes(root / "train/pos/10_9.txt", "Ten.<br /><br />Great film.");
  write_bytes(root / "train/pos/2_7.txt", "Two.");
  write_bytes(root / "train/neg/0_3.txt", "Zero<br />bad.");
  write_bytes(root / "train/neg/1_1.txt", "bad byte \xFF here");
  write_bytes(root / "train/urls_pos.txt", "not a review");
  write_bytes(root / "test/pos/0_10.txt", "test review");
  write_bytes(root / "test/neg/5_2.txt", "test neg");

  Corpus c;
  const std::string err = capture_stderr([&] { c = strata::read_source(spec_of("imdb", "aclimdb", root)); });
  REQUIRE(c.size() == 4);
  CHECK(c.id == std::vector<std::string>{"train/neg/0_3.txt", "train/neg/1_1.txt",
                                         "train/pos/2_7.txt", "train/pos/10_9.txt"});
  CHECK(c.label == std::vector<std::int64_t>{0, 0, 1, 1});
  CHECK(c.text[0] == "Zero<br />bad.");
  CHECK(c.text[1] == "bad byte " + kFffd + " here");
  CHECK(c.text[3] == "Ten.<br /><br />Great film.");
  CHECK(c.source == std::vector<std::string>(4, "imdb"));
  CHECK_THAT(err, HasSubstring("train/neg") && HasSubstring("1 row"));

  const Corpus test = strata::read_source(spec_of("imdb", "aclimdb", root, "test"));
  CHECK(test.id == std::vector<std::string>{"test/neg/5_2.txt", "test/pos/0_10.txt"});

  CHECK_THROWS_WITH(strata::read_source(spec_of("imdb", "aclimdb", root.parent_path() / "nope")),
                    (root.parent_path() / "nope").string() +
                        ": no such file or folder (source 'imdb', format aclimdb)");
  CHECK_THROWS_AS(strata::read_source(spec_of("imdb", "aclimdb", root, "dev")), InputError);
}

TEST_CASE("rt-polarity: Latin-1 lines, cut into splits as Hugging Face does", "[data][readers]") {
  const auto dir = scratch_dir("rt") / "rt-polaritydata";
  std::string pos, neg;
  for (int i = 0; i < 10; ++i) {
    pos += "pos " + std::to_string(i) + (i == 0 ? " caf\xE9 na\xEFve \x93quoted\x94" : "") + " \n";
    neg += "neg " + std::to_string(i) + " \r\n";
  }
  write_bytes(dir / "rt-polarity.pos", pos);
  write_bytes(dir / "rt-polarity.neg", neg);

  const Corpus train = strata::read_source(spec_of("rt", "rt-polarity", dir));
  REQUIRE(train.size() == 16);  // round(0.8 * 10) = 8 lines of each file
  CHECK(train.text[0] == "pos 0 caf\xC3\xA9 na\xC3\xAFve \xC2\x93quoted\xC2\x94");
  CHECK(train.text[8] == "neg 0");  // stripped as the Hugging Face builder does
  CHECK(train.id[0] == "rt-polarity.pos:1");
  CHECK(train.id[15] == "rt-polarity.neg:8");
  CHECK(std::count(train.label.begin(), train.label.begin() + 8, 1) == 8);
  CHECK(std::count(train.label.begin() + 8, train.label.end(), 0) == 8);

  const Corpus val = strata::read_source(spec_of("rt", "rt-polarity", dir, "validation"));
  CHECK(val.id == std::vector<std::string>{"rt-polarity.pos:9", "rt-polarity.neg:9"});
  const Corpus test = strata::read_source(spec_of("rt", "rt-polarity", dir, "test"));
  CHECK(test.id == std::vector<std::string>{"rt-polarity.pos:10", "rt-polarity.neg:10"});
  CHECK(strata::read_source(spec_of("rt", "rt-polarity", dir, "all")).size() == 20);

  // A copy re-encoded as UTF-8 is still read as Latin-1, with a warning.
  write_bytes(dir / "rt-polarity.neg", "caf\xC3\xA9\n");
  Corpus recoded;
  const std::string err = capture_stderr(
      [&] { recoded = strata::read_source(spec_of("rt", "rt-polarity", dir, "all")); });
  CHECK(recoded.text.back() == "caf\xC3\x83\xC2\xA9");
  CHECK_THAT(err, HasSubstring("rt-polarity.neg: the non-ASCII text is valid UTF-8"));

  std::filesystem::remove(dir / "rt-polarity.neg");
  CHECK_THROWS_WITH(strata::read_source(spec_of("rt", "rt-polarity", dir)),
                    HasSubstring("rt-polarity.neg: no such file or folder (source 'rt'"));
}

TEST_CASE("amazon polarity CSV: quotes, newlines, backslashes, title + content", "[data][readers]") {
  const auto dir = scratch_dir("amazon") / "amazon_polarity";
  write_bytes(dir / "train.csv",
              "\"2\",\"Great \"\"value\"\"\",\"Line one\nline two, \\n kept\"\n"
              "\"1\",\"Bad\",\"x\"\n"
              "\"2\",\"\",\"  only body \xFF \"\n");
  Corpus c;
  const std::string err =
      capture_stderr([&] { c = strata::read_source(spec_of("amazon", "amazon-polarity-csv", dir)); });
  REQUIRE(c.size() == 3);
  CHECK(c.text[0] == "Great \"value\" Line one\nline two, \\n kept");
  CHECK(c.text[1] == "Bad x");
  CHECK(c.text[2] == "only body " + kFffd);  // joined " " + body, then stripped
  CHECK(c.label == std::vector<std::int64_t>{1, 0, 1});
  CHECK(c.id == std::vector<std::string>{"train.csv:1", "train.csv:3", "train.csv:4"});
  CHECK_THAT(err, HasSubstring("train.csv") && HasSubstring("1 row"));

  auto content_only = spec_of("amazon", "amazon-polarity-csv", dir / "train.csv");
  content_only.text_fields = {"content"};
  CHECK(strata::read_source(content_only).text[1] == "x");
  content_only.text_fields = {"body"};
  CHECK_THROWS_WITH(strata::read_source(content_only), HasSubstring("'body'"));

  auto limited = spec_of("amazon", "amazon-polarity-csv", dir);
  limited.max_rows = 2;
  CHECK(strata::read_source(limited).size() == 2);

  const auto error = [&](const std::string& split, const std::string& contents) {
    return error_reading(dir, "amazon-polarity-csv", split, ".csv", contents);
  };
  CHECK_THAT(error("test", "\"1\",\"a\",\"b\"\n\"3\",\"a\",\"b\"\n"), HasSubstring("test.csv:2: label '3'"));
  CHECK_THAT(error("bad", "\"1\",\"a\",\"b\"\n\"2\",\"open\n"), HasSubstring("bad.csv:2:"));
  CHECK_THAT(error("cols", "\"1\",\"a\"\n"), HasSubstring("cols.csv:1: expected 3 columns"));
}

TEST_CASE("AG News CSV: classes 1..4, title + description, two-column variant", "[data][readers]") {
  const auto dir = scratch_dir("agnews") / "ag_news";
  write_bytes(dir / "train.csv",
              "\"3\",\"Wall St. Bears\",\"Reuters - Short-sellers, Wall Street's dwindling\\band "
              "of ultra-cynics, are seeing green again.\"\n"
              "\"1\",\"Title\",\" desc with \\\"escaped\\\" quotes\"\n"
              "\"4\",\"Whole text already joined\"\n");
  const Corpus c = strata::read_source(spec_of("ag", "ag-news-csv", dir));
  REQUIRE(c.size() == 3);
  CHECK(c.label == std::vector<std::int64_t>{2, 0, 3});
  CHECK(c.text[0] ==
        "Wall St. Bears Reuters - Short-sellers, Wall Street's dwindling\\band of ultra-cynics, "
        "are seeing green again.");
  // Backslash-quote: as Python's csv reads it (the quote after the backslash closes the
  // quoted part, later quotes are text).
  CHECK(c.text[1] == "Title  desc with \\escaped\\\" quotes\"");
  CHECK(c.text[2] == "Whole text already joined");
  CHECK_THAT(error_reading(dir, "ag-news-csv", "test", ".csv", "\"5\",\"a\",\"b\"\n"),
             HasSubstring("test.csv:1: label '5' is not an integer in 1..4"));
}

TEST_CASE("GLUE SST-2 TSV: header, unquoted, test split without labels", "[data][readers]") {
  const auto dir = scratch_dir("sst2") / "SST-2";
  write_bytes(dir / "train.tsv",
              "sentence\tlabel\nhide new secretions from the parental units \t0\n"
              "it 's \" good \" \t1\n");
  write_bytes(dir / "dev.tsv", "sentence\tlabel\nit 's a charming journey . \t1\n");
  write_bytes(dir / "test.tsv", "index\tsentence\n0\tuneasy mishmash of styles and genres .\n"
                                "1\tthis film 's relationship to actual tension \n");
  const Corpus train = strata::read_source(spec_of("sst2", "glue-sst2-tsv", dir));
  CHECK(train.text == std::vector<std::string>{"hide new secretions from the parental units ",
                                               "it 's \" good \" "});
  CHECK(train.label == std::vector<std::int64_t>{0, 1});
  CHECK(train.id == std::vector<std::string>{"train.tsv:2", "train.tsv:3"});
  CHECK(strata::read_source(spec_of("sst2", "glue-sst2-tsv", dir, "validation")).size() == 1);
  const Corpus test = strata::read_source(spec_of("sst2", "glue-sst2-tsv", dir, "test"));
  CHECK(test.label == std::vector<std::int64_t>{-1, -1});
  CHECK(test.text[0] == "uneasy mishmash of styles and genres .");
  CHECK_THAT(error_reading(dir, "glue-sst2-tsv", "broken", ".tsv", "sentence\tlabel\nno label column\n"),
             HasSubstring("broken.tsv:2: 1 fields, the header has 2"));
}

TEST_CASE("TweetEval: text and labels line-aligned", "[data][readers]") {
  const auto dir = scratch_dir("tweeteval") / "sentiment";
  write_bytes(dir / "train_text.txt", "\"QT @user first\" \nsecond #tag\nthird \xC3\n");
  write_bytes(dir / "train_labels.txt", "2\n1\n0\n");
  write_bytes(dir / "val_text.txt", "a\nb\nc\n");
  write_bytes(dir / "val_labels.txt", "1\n1\n");
  const Corpus c = strata::read_source(spec_of("tweets", "tweet-eval", dir));
  CHECK(c.text == std::vector<std::string>{"\"QT @user first\" ", "second #tag", "third " + kFffd});
  CHECK(c.label == std::vector<std::int64_t>{2, 1, 0});
  CHECK(c.id[2] == "train_text.txt:3");
  CHECK_THROWS_WITH(strata::read_source(spec_of("tweets", "tweet-eval", dir, "validation")),
                    HasSubstring("val_text.txt has 3 lines") && HasSubstring("val_labels.txt has 2"));
}

TEST_CASE("generic JSONL: fields, string labels, ids, sources, repair", "[data][readers]") {
  const auto dir = scratch_dir("jsonl");
  write_bytes(dir / "rows.jsonl",
              "{\"body\": \"first\", \"y\": \"pos\", \"key\": \"a\"}\n"
              "\n"
              "{\"body\": \"second \xFF\", \"y\": \"neg\", \"key\": 7}\n"
              "{\"body\": \"third\", \"y\": \"pos\", \"key\": \"c\"}\n"
              "{\"body\": \"fourth\", \"key\": \"d\"}\n");
  auto s = spec_of("mine", "jsonl", dir / "rows.jsonl");
  s.text_field = "body";
  s.label_field = "y";
  s.id_field = "key";
  Corpus c;
  const std::string err = capture_stderr([&] { c = strata::read_source(s); });
  CHECK(c.text == std::vector<std::string>{"first", "second " + kFffd, "third", "fourth"});
  CHECK(c.label == std::vector<std::int64_t>{0, 1, 0, -1});  // pos=0, neg=1 by first appearance
  CHECK(c.id == std::vector<std::string>{"a", "7", "c", "d"});
  CHECK_THAT(err, HasSubstring("rows.jsonl") && HasSubstring("1 row"));

  write_bytes(dir / "multi.jsonl",
              "{\"text\": \"x\", \"label\": 1, \"source\": \"imdb\"}\n"
              "{\"text\": \"y\", \"label\": 0, \"source\": \"sst2\"}\n");
  auto m = spec_of("ignored", "jsonl", dir / "multi.jsonl");
  m.source_column = "source";
  const Corpus mc = strata::read_source(m);
  CHECK(mc.source == std::vector<std::string>{"imdb", "sst2"});
  CHECK(mc.id == std::vector<std::string>{"multi.jsonl:1", "multi.jsonl:2"});

  write_bytes(dir / "mixed.jsonl", "{\"text\": \"x\", \"label\": 1}\n{\"text\": \"y\", \"label\": \"b\"}\n");
  CHECK_THROWS_WITH(strata::read_source(spec_of("m", "jsonl", dir / "mixed.jsonl")),
                    HasSubstring("mixed.jsonl:2:"));
  write_bytes(dir / "broken.jsonl", "{\"text\": \"x\"}\n{\"text\": \n");
  CHECK_THROWS_WITH(strata::read_source(spec_of("m", "jsonl", dir / "broken.jsonl")),
                    HasSubstring("broken.jsonl:2: not valid JSON"));
  write_bytes(dir / "notext.jsonl", "{\"txt\": \"x\"}\n");
  CHECK_THROWS_WITH(strata::read_source(spec_of("m", "jsonl", dir / "notext.jsonl")),
                    HasSubstring("notext.jsonl:1: text field 'text'"));
}

TEST_CASE("generic CSV and TSV with a header", "[data][readers]") {
  const auto dir = scratch_dir("table");
  write_bytes(dir / "train.csv",
              "\xEF\xBB\xBFid;review;stars\nr1;\"semi; colon \"\"q\"\"\";good\nr2;plain;bad\n"
              "r3;\"multi\nline\";\n");
  auto s = spec_of("t", "csv", dir);
  s.delimiter = ';';
  s.text_field = "review";
  s.label_field = "stars";
  s.id_field = "id";
  const Corpus c = strata::read_source(s);
  CHECK(c.text == std::vector<std::string>{"semi; colon \"q\"", "plain", "multi\nline"});
  CHECK(c.label == std::vector<std::int64_t>{0, 1, -1});
  CHECK(c.id == std::vector<std::string>{"r1", "r2", "r3"});

  write_bytes(dir / "train.tsv", "text\tlabel\nhello\t3\nworld\t\n");
  const Corpus t = strata::read_source(spec_of("t", "tsv", dir));
  CHECK(t.label == std::vector<std::int64_t>{3, -1});
  CHECK(t.id == std::vector<std::string>{"train.tsv:2", "train.tsv:3"});

  s.text_field = "missing";
  CHECK_THROWS_WITH(strata::read_source(s), HasSubstring("train.csv:1: header has no text column 'missing'"));
}

TEST_CASE("corpus tables hold several sources", "[data][readers]") {
  const auto dir = scratch_dir("corpus-table");
  write_bytes(dir / "corpus.jsonl",
              "{\"text\": \"a\", \"source\": \"imdb\", \"label\": 1, \"id\": \"train/pos/1_9.txt\"}\n"
              "{\"text\": \"b\", \"source\": \"ag_news\", \"label\": 2}\n");
  const Corpus j = strata::read_corpus_table(dir / "corpus.jsonl");
  CHECK(j.source == std::vector<std::string>{"imdb", "ag_news"});
  CHECK(j.id == std::vector<std::string>{"train/pos/1_9.txt", "corpus.jsonl:2"});
  write_bytes(dir / "corpus.csv", "text,source,label\n\"x, y\",rt,0\nz,sst2,\n");
  const Corpus c = strata::read_corpus_table(dir / "corpus.csv");
  CHECK(c.text == std::vector<std::string>{"x, y", "z"});
  CHECK(c.label == std::vector<std::int64_t>{0, -1});
  write_bytes(dir / "named.csv", "text,source,label\nx,rt,pos\n");
  CHECK_THROWS_WITH(strata::read_corpus_table(dir / "named.csv"),
                    HasSubstring("named.csv:2: label 'pos' is not an integer"));
  write_bytes(dir / "nosource.csv", "text,label\nx,1\n");
  CHECK_THROWS_WITH(strata::read_corpus_table(dir / "nosource.csv"), HasSubstring("source column"));
  CHECK_THROWS_AS(strata::read_corpus_table(dir / "corpus.txt"), InputError);
}

TEST_CASE("empty files give no rows and a warning; unknown formats are errors", "[data][readers]") {
  const auto dir = scratch_dir("empty");
  write_bytes(dir / "train.csv", "");
  write_bytes(dir / "train_text.txt", "");
  write_bytes(dir / "train_labels.txt", "");
  Corpus a, t;
  const std::string err = capture_stderr([&] {
    a = strata::read_source(spec_of("amazon", "amazon-polarity-csv", dir));
    t = strata::read_source(spec_of("tweets", "tweet-eval", dir));
  });
  CHECK(a.size() == 0);
  CHECK(t.size() == 0);
  CHECK_THAT(err, HasSubstring("train.csv: no rows") && HasSubstring("train_text.txt: no rows"));
  CHECK_THROWS_WITH(strata::read_source(spec_of("x", "parquet", dir)),
                    HasSubstring("unknown format 'parquet'"));
  CHECK(strata::known_formats().size() == 10);
  for (const auto& format : strata::known_formats())  // every listed format has a reader
    CHECK_THROWS_WITH(strata::read_source(spec_of("x", format, dir / "absent")),
                      HasSubstring("absent: no such file or folder (source 'x', format " + format + ")"));
}

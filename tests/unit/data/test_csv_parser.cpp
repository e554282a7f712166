#include "core/data/csv_parser.h"

#include <vector>

#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/unit/data/data_fixtures.h"

using strata::data::CsvDialect;
using strata::data::CsvParser;

namespace {
std::vector<std::vector<std::string>> read_all(const std::filesystem::path& p, CsvDialect d,
                                               std::vector<std::size_t>* lines = nullptr) {
  CsvParser parser(p, d);
  std::vector<std::vector<std::string>> rows;
  for (std::vector<std::string> f; parser.next(f);) {
    rows.push_back(f);
    if (lines) lines->push_back(parser.record_line());
  }
  return rows;
}
}  // namespace

TEST_CASE("CSV records are read as Python's csv module reads them", "[data][csv]") {
  const auto dir = strata::test::scratch_dir("csv-python");
  // Rows and expected fields: the expectations are csv.reader(open(p, newline='')) output.
  strata::test::write_bytes(dir / "t.csv",
                            "\"2\",\"Great \"\"value\"\"\",\"Line one\nline two \\\"quoted\\\" and "
                            "\\n escape\"\r\n"
                            "\n"
                            "plain,un\"quoted,\"\"\n"
                            "\"a\"x,b\r"
                            "last,row");
  std::vector<std::size_t> lines;
  const auto rows = read_all(dir / "t.csv", CsvDialect{}, &lines);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0] == std::vector<std::string>{"2", "Great \"value\"",
                                            "Line one\nline two \\quoted\\\" and \\n escape\""});
  CHECK(rows[1] == std::vector<std::string>{"plain", "un\"quoted", ""});
  CHECK(rows[2] == std::vector<std::string>{"ax", "b"});
  CHECK(rows[3] == std::vector<std::string>{"last", "row"});
  CHECK(lines == std::vector<std::size_t>{1, 4, 5, 6});
}

TEST_CASE("CSV without quoting keeps quotes as text", "[data][csv]") {
  const auto dir = strata::test::scratch_dir("csv-noquote");
  strata::test::write_bytes(dir / "t.tsv", "sentence\tlabel\nit 's \" good \" \t1\n");
  const auto rows = read_all(dir / "t.tsv", CsvDialect{'\t', '\0', false});
  REQUIRE(rows.size() == 2);
  CHECK(rows[1] == std::vector<std::string>{"it 's \" good \" ", "1"});
}

TEST_CASE("an unterminated quote is an error naming file and line", "[data][csv]") {
  const auto dir = strata::test::scratch_dir("csv-unterminated");
  strata::test::write_bytes(dir / "bad.csv", "\"1\",\"ok\"\n\"2\",\"never\nclosed\n");
  CsvParser parser(dir / "bad.csv", CsvDialect{});
  std::vector<std::string> f;
  CHECK(parser.next(f));
  CHECK_THROWS_AS(parser.next(f), strata::InputError);
  CsvParser again(dir / "bad.csv", CsvDialect{});
  CHECK(again.next(f));
  CHECK_THROWS_WITH(again.next(f), strata::test::HasSubstring("bad.csv:2:") &&
                                       strata::test::HasSubstring("not closed"));
}

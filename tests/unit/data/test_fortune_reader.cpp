#include "core/data/corpus_readers.h"
#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/unit/data/data_fixtures.h"

using namespace strata;

TEST_CASE("fortune files: entries between % lines, multi-line entries kept", "[data][fortune]") {
  const auto dir = test::scratch_dir("fortune");
  test::write_bytes(dir / "food", "First line\n  second line\n%\n%\nAnother one.\r\n%\n\n  Last, no final %\n");
  SourceSpec spec;
  spec.name = "food";
  spec.format = "fortune";
  spec.path = dir / "food";
  const Corpus c = read_source(spec);
  REQUIRE(c.size() == 3);
  CHECK(c.text[0] == "First line\n  second line");
  CHECK(c.text[1] == "Another one.");
  CHECK(c.text[2] == "Last, no final %");
  CHECK(c.id[0] == "food:1");
  CHECK(c.id[1] == "food:5");
  CHECK(c.source[2] == "food");
  CHECK(c.label[0] == -1);
  spec.path = dir / "missing";
  CHECK_THROWS_AS(read_source(spec), InputError);
}

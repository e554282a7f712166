#include "core/data/sampling.h"

#include <algorithm>
#include <map>

#include "core/util/error.h"
#include "tests/catch.hpp"

using strata::test::HasSubstring;
using strata::Corpus;
using strata::SamplingSpec;

namespace {

// Two sources of 100 rows: labels 0 for the first 80 rows of each, 1 for the last 20; the
// text of row i has i % 50 + 1 code points ("é" repeated, 2 bytes each).
Corpus two_sources() {
  Corpus c;
  for (const char* src : {"a", "b"})
    for (int i = 0; i < 100; ++i) {
      std::string text;
      for (int k = 0; k <= i % 50; ++k) text += "\xC3\xA9";
      c.push_back(text, src, i < 80 ? 0 : 1, std::string(src) + ":" + std::to_string(i));
    }
  return c;
}

std::map<std::string, std::size_t> count_by_source(const Corpus& c) {
  std::map<std::string, std::size_t> n;
  for (const auto& s : c.source) ++n[s];
  return n;
}

SamplingSpec spec(std::size_t n, std::uint64_t seed = 0) {
  SamplingSpec s;
  s.per_source = n;
  s.seed = seed;
  return s;
}

}  // namespace

TEST_CASE("uniform_below is the rejection draw on raw mt19937_64 output", "[data][sampling]") {
  std::mt19937_64 a(42), b(42);
  for (int i = 0; i < 200; ++i) {
    // 2^64 mod 10 = 6: a raw value below 6 would be redrawn; none occurs in 200 draws.
    CHECK(strata::data::uniform_below(a, 10) == b() % 10);
  }
  std::mt19937_64 g(7);
  std::vector<int> seen(7, 0);
  for (int i = 0; i < 700; ++i) ++seen[strata::data::uniform_below(g, 7)];
  for (int v : seen) CHECK(v > 50);
}

TEST_CASE("random sampling is seeded, per source, in input order", "[data][sampling]") {
  const Corpus rows = two_sources();
  const Corpus s1 = strata::sample_rows(rows, spec(10, 1));
  const Corpus s1_again = strata::sample_rows(rows, spec(10, 1));
  const Corpus s2 = strata::sample_rows(rows, spec(10, 2));
  CHECK(s1.size() == 20);
  CHECK(count_by_source(s1) == std::map<std::string, std::size_t>{{"a", 10}, {"b", 10}});
  CHECK(s1.id == s1_again.id);
  CHECK(s1.fingerprint() == s1_again.fingerprint());
  CHECK(s1.id != s2.id);
  CHECK(std::is_sorted(s1.id.begin(), s1.id.begin() + 10, [](const auto& x, const auto& y) {
    return std::stoi(x.substr(2)) < std::stoi(y.substr(2));
  }));
  std::vector<std::string> unique = s1.id;
  std::sort(unique.begin(), unique.end());
  CHECK(std::unique(unique.begin(), unique.end()) == unique.end());

  // A source's rows do not depend on the other sources.
  Corpus only_a;
  for (std::size_t i = 0; i < 100; ++i) only_a.push_back(rows.text[i], "a", rows.label[i], rows.id[i]);
  const Corpus sa = strata::sample_rows(only_a, spec(10, 1));
  CHECK(sa.id == std::vector<std::string>(s1.id.begin(), s1.id.begin() + 10));
}

TEST_CASE("first mode takes the first rows of each source", "[data][sampling]") {
  SamplingSpec s = spec(3);
  s.mode = "first";
  const Corpus c = strata::sample_rows(two_sources(), s);
  CHECK(c.id == std::vector<std::string>{"a:0", "a:1", "a:2", "b:0", "b:1", "b:2"});
  s.mode = "shuffled";
  CHECK_THROWS_AS(strata::sample_rows(two_sources(), s), strata::InputError);
}

TEST_CASE("label balance", "[data][sampling]") {
  auto labels_of = [](const Corpus& c, const std::string& src) {
    std::map<std::int64_t, std::size_t> n;
    for (std::size_t i = 0; i < c.size(); ++i)
      if (c.source[i] == src) ++n[c.label[i]];
    return n;
  };
  SamplingSpec s = spec(11, 3);
  s.balance_labels = true;
  CHECK(labels_of(strata::sample_rows(two_sources(), s), "a") ==
        std::map<std::int64_t, std::size_t>{{0, 6}, {1, 5}});
  s.per_source = 50;  // label 1 has only 20 rows: it gives its shortfall to label 0
  CHECK(labels_of(strata::sample_rows(two_sources(), s), "b") ==
        std::map<std::int64_t, std::size_t>{{0, 30}, {1, 20}});
  s.per_source = 0;  // as many of each label as the rarest has
  CHECK(labels_of(strata::sample_rows(two_sources(), s), "a") ==
        std::map<std::int64_t, std::size_t>{{0, 20}, {1, 20}});
  s.mode = "first";
  s.per_source = 4;
  const Corpus first = strata::sample_rows(two_sources(), s);
  CHECK(std::vector<std::string>(first.id.begin(), first.id.begin() + 4) ==
        std::vector<std::string>{"a:0", "a:1", "a:80", "a:81"});
}

TEST_CASE("length bounds apply before sampling, in code points", "[data][sampling]") {
  SamplingSpec s = spec(0);
  s.min_chars = 10;
  s.max_chars = 12;  // rows with i % 50 in 9..11: 6 per source
  const Corpus c = strata::sample_rows(two_sources(), s);
  CHECK(c.size() == 12);
  for (const auto& t : c.text) CHECK((t.size() / 2 >= 10 && t.size() / 2 <= 12));
  s.per_source = 4;
  CHECK(strata::sample_rows(two_sources(), s).size() == 8);
  s.min_chars = 20;
  CHECK_THROWS_AS(strata::sample_rows(two_sources(), s), strata::InputError);
}

TEST_CASE("asking for more rows than a source has is an error with the counts", "[data][sampling]") {
  CHECK_THROWS_WITH(strata::sample_rows(two_sources(), spec(101)),
                    HasSubstring("source 'a': 101 rows asked for, 100 available"));
  SamplingSpec s = spec(10);
  s.min_chars = 49;
  CHECK_THROWS_WITH(strata::sample_rows(two_sources(), s),
                    HasSubstring("10 rows asked for, 4 available within the length bounds 49..unbounded"));
  CHECK(strata::sample_rows(two_sources(), spec(0)).size() == 200);
}

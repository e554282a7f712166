#pragma once
// The corpus: one row per text, with the source it came from, its label and its id there.
#include <cstdint>
#include <string>
#include <vector>

namespace strata {

struct Corpus {
  std::vector<std::string> text;
  std::vector<std::string> source;  // source name of each row (a [[corpus.source]] name)
  std::vector<std::int64_t> label;  // -1 where the source has no label
  std::vector<std::string> id;      // where the row is in its source: file name, line, row number

  std::size_t size() const { return text.size(); }
  void push_back(std::string text_, std::string source_, std::int64_t label_, std::string id_);
  void append(const Corpus& other);
  // Names of the sources in order of first appearance.
  std::vector<std::string> source_names() const;
  // SHA-256 over every row: two corpora with the same fingerprint are the same corpus.
  std::string fingerprint() const;
  // Throws if the four columns differ in length.
  void check_consistent() const;
};

}  // namespace strata

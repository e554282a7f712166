#pragma once
// Shared plumbing of the corpus readers (not part of the public interface): collecting rows
// with UTF-8 repair and a row limit, reading lines, parsing integers, naming files in ids.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "core/data/corpus.h"
#include "core/data/corpus_readers.h"

namespace strata::data {

// Appends rows to a corpus, repairing invalid UTF-8, and warns once per file about repairs.
class RowCollector {
 public:
  RowCollector(const SourceSpec& spec, Corpus& out) : spec_(spec), out_(out) {}
  // `source` empty = the spec's name. Rows past max_rows are dropped (returns false).
  bool add(std::string_view row_text, std::int64_t label, std::string id, std::string_view source = {});
  // True once max_rows rows have been collected: readers stop reading.
  bool full() const { return spec_.max_rows != 0 && out_.size() >= spec_.max_rows; }
  // Call after each file: warns if rows of that file were repaired.
  void finish_file(const std::filesystem::path& file);
  // Repairs one more value of the current row (a label or source string), counting the row.
  std::string repaired(std::string_view bytes);

 private:
  const SourceSpec& spec_;
  Corpus& out_;
  std::size_t repaired_rows_ = 0;  // in the current file
  bool row_repaired_ = false;      // a value of the row being built was repaired
};

// The whole file as bytes.
std::string read_file_bytes(const std::filesystem::path& path);

// Reads a file line by line; strips the terminator (\n or \r\n).
class LineReader {
 public:
  explicit LineReader(const std::filesystem::path& path);
  bool next(std::string& line);
  std::size_t line_number() const { return line_; }  // 1-based number of the last line read

 private:
  std::filesystem::path path_;
  std::ifstream in_;
  std::size_t line_ = 0;
};

// An integer written in decimal, optionally signed, surrounded by optional spaces.
std::optional<std::int64_t> parse_int(std::string_view s);

// How ids name a file: relative to `base` when `base` is a folder holding it, else the file
// name. Row ids are "<name>:<line>".
std::string id_prefix(const std::filesystem::path& file, const std::filesystem::path& base);
inline std::string line_id(const std::string& prefix, std::size_t line) {
  return prefix + ":" + std::to_string(line);
}

// A file for `split`: `path` itself when it is a file, else path / (split + ext).
std::filesystem::path split_file(const SourceSpec& spec, const std::string& split,
                                 const std::string& ext);

// Throws InputError if `p` does not exist, naming the source and format.
void require_exists(const std::filesystem::path& p, const SourceSpec& spec);

// Warns when a file produced no rows.
void warn_if_empty(const Corpus& rows, const std::filesystem::path& p, const SourceSpec& spec);

// Readers of each format (defined in release_readers.cpp and table_readers.cpp).
Corpus read_aclimdb(const SourceSpec& spec);
Corpus read_rt_polarity(const SourceSpec& spec);
Corpus read_amazon_polarity_csv(const SourceSpec& spec);
Corpus read_ag_news_csv(const SourceSpec& spec);
Corpus read_glue_sst2_tsv(const SourceSpec& spec);
Corpus read_tweet_eval(const SourceSpec& spec);
Corpus read_fortune(const SourceSpec& spec);
Corpus read_jsonl_table(const SourceSpec& spec);
Corpus read_delimited_table(const SourceSpec& spec);

}  // namespace strata::data

#pragma once
// A streaming CSV/TSV record reader (RFC 4180 state machine) that reads records the way
// Python's csv module does with its default dialect, so texts match what Python-based
// pipelines (and Hugging Face `datasets` builders) got from the same files:
//   - a field that starts with the quote character is quoted: delimiters and line breaks
//     inside it are data, and a doubled quote ("") is one quote character;
//   - a quote that closes a quoted field and is followed by anything other than the
//     delimiter or a line break is dropped and reading goes on unquoted (Python, strict off);
//   - a quote inside an unquoted field is an ordinary character;
//   - backslashes are ordinary characters: the two-character sequences \n and \" that
//     some releases hold stay exactly as written (no escape character, as in Python's default);
//   - records end at \n, \r\n or \r outside quotes; empty lines are skipped;
//   - a quoted field still open at end of file is an error (Python would return a truncated
//     field silently): InputError naming the file and the line where the field opened.
// Bytes are passed through unchanged; UTF-8 repair is the caller's business.
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace strata::data {

struct CsvDialect {
  char delimiter = ',';
  char quote = '"';    // '\0' = no quoting at all (GLUE's TSV files)
  bool skip_initial_space = false;
};

class CsvParser {
 public:
  CsvParser(const std::filesystem::path& path, CsvDialect dialect);
  // Reads the next record into `fields`; false at end of file.
  bool next(std::vector<std::string>& fields);
  // next(), refusing a record whose field count is not `columns` (its header's) with FILE:LINE.
  bool next_row(std::vector<std::string>& fields, std::size_t columns);
  // 1-based line of the file where the last record returned starts.
  std::size_t record_line() const { return record_line_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  int get();   // next byte or EOF
  int peek();
  bool refill();
  // Appends the bytes up to the next quote (or end of buffer) to `field`: the inner loop of
  // quoted text, where almost all the bytes of a release are.
  void append_quoted_run(std::string& field);

  std::filesystem::path path_;
  std::ifstream in_;
  std::vector<char> buf_;
  std::size_t pos_ = 0, end_ = 0;
  CsvDialect dialect_;
  std::size_t line_ = 1;  // line of the next byte to read
  std::size_t record_line_ = 0;
};

}  // namespace strata::data

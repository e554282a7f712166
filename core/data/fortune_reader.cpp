// fortune(6) data files: entries separated by lines holding only "%" (Debian's `fortunes`
// package ships one file per category, a small multi-domain corpus on every machine).
#include "core/data/reader_support.h"
#include "core/data/text_encoding.h"

namespace strata::data {

Corpus read_fortune(const SourceSpec& spec) {
  require_exists(spec.path, spec);
  Corpus out;
  RowCollector rows(spec, out);
  const std::string prefix = id_prefix(spec.path, spec.path.parent_path());
  LineReader reader(spec.path);
  std::string entry;
  std::size_t first_line = 1;
  auto flush = [&] {
    const std::string text(strip_python_whitespace(entry));
    if (!text.empty()) rows.add(text, -1, line_id(prefix, first_line));
    entry.clear();
  };
  for (std::string line; reader.next(line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "%") {
      flush();
      first_line = reader.line_number() + 1;
      continue;
    }
    if (!entry.empty()) entry.push_back('\n');
    entry += line;
  }
  flush();
  rows.finish_file(spec.path);
  warn_if_empty(out, spec.path, spec);
  return out;
}

}  // namespace strata::data

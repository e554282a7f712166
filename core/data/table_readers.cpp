// Generic tables: JSON lines and CSV/TSV with a header (documented in corpus_readers.h), and
// corpus tables holding several sources.
#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/data/csv_parser.h"
#include "core/data/reader_support.h"
#include "core/data/text_encoding.h"
#include "core/util/error.h"
#include "core/util/json_nesting.h"
#include "core/util/log.h"

namespace strata::data {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct TableFields {
  std::string text, label, id, source;
  bool id_optional = false;           // corpus tables: the id column may be absent
  bool string_labels_allowed = true;  // corpus tables: labels are already numbers
};

// Turns label cells into integers: integers as they are, other strings numbered 0, 1, ... in
// order of first appearance. A file mixing the two kinds is an error.
class LabelNumbering {
 public:
  LabelNumbering(fs::path file, bool strings_allowed)
      : file_(std::move(file)), strings_allowed_(strings_allowed) {}

  std::int64_t integer(std::int64_t v, std::size_t line) {
    if (!names_.empty())
      fail_input("{}:{}: integer label {} in a file whose labels are strings (first: '{}')",
                 file_.string(), line, v, names_.front());
    saw_integer_ = true;
    return v;
  }

  std::int64_t text(const std::string& s, std::size_t line) {
    if (const auto v = parse_int(s)) return integer(*v, line);
    if (!strings_allowed_)
      fail_input("{}:{}: label '{}' is not an integer", file_.string(), line, s);
    if (saw_integer_)
      fail_input("{}:{}: string label '{}' in a file whose labels are integers", file_.string(),
                 line, s);
    const auto it = std::find(names_.begin(), names_.end(), s);
    if (it != names_.end()) return it - names_.begin();
    names_.push_back(s);
    return static_cast<std::int64_t>(names_.size()) - 1;
  }

  void report() const {
    if (names_.empty()) return;
    std::string mapping;
    for (std::size_t i = 0; i < names_.size(); ++i)
      mapping += fmt::format("{}{}={}", i ? ", " : "", names_[i], i);
    log::info("{}: string labels numbered in order of first appearance: {}", file_.string(),
              mapping);
  }

 private:
  fs::path file_;
  bool strings_allowed_;
  bool saw_integer_ = false;
  std::vector<std::string> names_;
};

// ---- JSON lines ----------------------------------------------------------------------------

std::string json_id(const json& v, const fs::path& file, std::size_t line, const std::string& key) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  fail_input("{}:{}: id field '{}' must be a string or an integer", file.string(), line, key);
}

std::int64_t json_label(const json& row, const std::string& key, LabelNumbering& labels,
                        const fs::path& file, std::size_t line) {
  const auto it = row.find(key);
  if (it == row.end() || it->is_null()) return -1;
  if (it->is_boolean()) return labels.integer(it->get<bool>() ? 1 : 0, line);
  if (it->is_number_integer()) return labels.integer(it->get<std::int64_t>(), line);
  if (it->is_number_unsigned()) return labels.integer(static_cast<std::int64_t>(it->get<std::uint64_t>()), line);
  if (it->is_number_float()) {
    const double d = it->get<double>();
    if (std::floor(d) == d && std::abs(d) < 9.0e15)
      return labels.integer(static_cast<std::int64_t>(d), line);
  }
  if (it->is_string()) return labels.text(it->get<std::string>(), line);
  fail_input("{}:{}: label field '{}' holds {} (an integer, a string or null was expected)",
             file.string(), line, key, it->dump());
}

Corpus read_jsonl(const SourceSpec& spec, const fs::path& file, const TableFields& fields) {
  Corpus out;
  RowCollector rows(spec, out);
  LabelNumbering labels(file, fields.string_labels_allowed);
  const std::string prefix = id_prefix(file, spec.path);
  LineReader reader(file);
  for (std::string raw; !rows.full() && reader.next(raw);) {
    const std::size_t line = reader.line_number();
    // Repair first: the JSON parser rejects invalid UTF-8 inside strings.
    const std::string repaired_line = rows.repaired(raw);
    if (strip_python_whitespace(repaired_line).empty()) continue;
    json row;
    check_json_nesting(repaired_line, fmt::format("{}:{}", file.string(), line));
    try {
      row = json::parse(repaired_line);
    } catch (const json::exception& e) {
      fail_input("{}:{}: not valid JSON: {}", file.string(), line, e.what());
    }
    if (!row.is_object()) fail_input("{}:{}: a JSON object was expected", file.string(), line);
    const auto text = row.find(fields.text);
    if (text == row.end() || !text->is_string())
      fail_input("{}:{}: text field '{}' is missing or not a string", file.string(), line,
                 fields.text);
    const std::int64_t label = json_label(row, fields.label, labels, file, line);
    std::string id = line_id(prefix, line);
    if (!fields.id.empty()) {
      const auto v = row.find(fields.id);
      if (v != row.end()) id = json_id(*v, file, line, fields.id);
      else if (!fields.id_optional)
        fail_input("{}:{}: id field '{}' is missing", file.string(), line, fields.id);
    }
    std::string source;
    if (!fields.source.empty()) {
      const auto v = row.find(fields.source);
      if (v == row.end() || !v->is_string() || v->get<std::string>().empty())
        fail_input("{}:{}: source field '{}' is missing, empty or not a string", file.string(),
                   line, fields.source);
      source = v->get<std::string>();
    }
    rows.add(text->get<std::string>(), label, std::move(id), source);
  }
  rows.finish_file(file);
  labels.report();
  warn_if_empty(out, file, spec);
  return out;
}

// ---- CSV / TSV with a header ---------------------------------------------------------------

std::optional<std::size_t> column(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) return std::nullopt;
  return static_cast<std::size_t>(it - header.begin());
}

std::size_t required_column(const std::vector<std::string>& header, const std::string& name,
                            const char* what, const fs::path& file) {
  const auto c = column(header, name);
  if (!c) fail_input("{}:1: header has no {} column '{}'", file.string(), what, name);
  return *c;
}

Corpus read_delimited(const SourceSpec& spec, const fs::path& file, CsvDialect dialect,
                      const TableFields& fields) {
  Corpus out;
  RowCollector rows(spec, out);
  CsvParser parser(file, dialect);
  std::vector<std::string> header;
  if (!parser.next(header)) {
    warn_if_empty(out, file, spec);
    return out;
  }
  if (!header.empty() && header[0].rfind("\xEF\xBB\xBF", 0) == 0) header[0].erase(0, 3);
  const std::size_t text_col = required_column(header, fields.text, "text", file);
  const auto label_col = column(header, fields.label);
  std::optional<std::size_t> id_col, source_col;
  if (!fields.id.empty())
    id_col = fields.id_optional ? column(header, fields.id)
                                : required_column(header, fields.id, "id", file);
  if (!fields.source.empty()) source_col = required_column(header, fields.source, "source", file);

  LabelNumbering labels(file, fields.string_labels_allowed);
  const std::string prefix = id_prefix(file, spec.path);
  std::vector<std::string> f;
  while (!rows.full() && parser.next_row(f, header.size())) {
    const std::size_t line = parser.record_line();
    std::int64_t label = -1;
    if (label_col && !f[*label_col].empty()) label = labels.text(rows.repaired(f[*label_col]), line);
    std::string id = id_col ? rows.repaired(f[*id_col]) : line_id(prefix, line);
    std::string source;
    if (source_col) {
      source = rows.repaired(f[*source_col]);
      if (source.empty()) fail_input("{}:{}: empty source cell", file.string(), line);
    }
    rows.add(f[text_col], label, std::move(id), source);
  }
  rows.finish_file(file);
  labels.report();
  warn_if_empty(out, file, spec);
  return out;
}

TableFields fields_of(const SourceSpec& spec) {
  return TableFields{spec.text_field, spec.label_field, spec.id_field, spec.source_column};
}

}  // namespace

Corpus read_jsonl_table(const SourceSpec& spec) {
  require_exists(spec.path, spec);
  const fs::path file = split_file(spec, spec.split, ".jsonl");
  require_exists(file, spec);
  return read_jsonl(spec, file, fields_of(spec));
}

Corpus read_delimited_table(const SourceSpec& spec) {
  require_exists(spec.path, spec);
  const bool tsv = spec.format == "tsv";
  const fs::path file = split_file(spec, spec.split, tsv ? ".tsv" : ".csv");
  require_exists(file, spec);
  CsvDialect dialect{tsv ? '\t' : ',', spec.quote, false};
  if (spec.delimiter != '\0') dialect.delimiter = spec.delimiter;
  return read_delimited(spec, file, dialect, fields_of(spec));
}

}  // namespace strata::data

namespace strata {

Corpus read_corpus_table(const std::filesystem::path& path) {
  SourceSpec spec;
  spec.name = "corpus table";
  spec.path = path;
  const std::string ext = path.extension().string();
  spec.format = ext == ".jsonl" || ext == ".json" ? "jsonl" : ext == ".tsv" ? "tsv" : "csv";
  if (ext != ".jsonl" && ext != ".json" && ext != ".csv" && ext != ".tsv")
    fail_input("{}: a corpus table must be .jsonl, .csv or .tsv", path.string());
  data::require_exists(path, spec);
  const data::TableFields fields{"text", "label", "id", "source", true, false};
  Corpus c = spec.format == "jsonl"
                 ? data::read_jsonl(spec, path, fields)
                 : data::read_delimited(spec, path, data::CsvDialect{spec.format == "tsv" ? '\t' : ',', '"', false},
                                        fields);
  if (c.size() == 0) fail_input("{}: no rows (a corpus table needs at least one)", path.string());
  return c;
}

}  // namespace strata

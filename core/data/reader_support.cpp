#include "core/data/reader_support.h"

#include <charconv>
#include <iterator>

#include "core/data/text_encoding.h"
#include "core/text/utf8.h"
#include "core/util/error.h"
#include "core/util/log.h"

namespace strata::data {

namespace fs = std::filesystem;

bool RowCollector::add(std::string_view row_text, std::int64_t label, std::string id,
                       std::string_view source) {
  if (full()) return false;
  std::string clean = repaired(row_text);
  if (row_repaired_) ++repaired_rows_;
  row_repaired_ = false;
  out_.push_back(std::move(clean), source.empty() ? spec_.name : std::string(source), label,
                 is_ascii(id) ? std::move(id) : text::repair_utf8(id));
  return true;
}

std::string RowCollector::repaired(std::string_view bytes) {
  if (is_ascii(bytes) || text::is_valid_utf8(bytes)) return std::string(bytes);
  row_repaired_ = true;
  return text::repair_utf8(bytes);
}

void RowCollector::finish_file(const fs::path& file) {
  if (repaired_rows_ > 0)
    log::warn("{}: invalid UTF-8 repaired in {} row{} (each invalid sequence became U+FFFD)",
              file.string(), repaired_rows_, repaired_rows_ == 1 ? "" : "s");
  repaired_rows_ = 0;
}

std::string read_file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_input("{}: cannot open for reading", path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail_input("{}: read error", path.string());
  return bytes;
}

LineReader::LineReader(const fs::path& path) : path_(path), in_(path, std::ios::binary) {
  if (!in_) fail_input("{}: cannot open for reading", path.string());
}

bool LineReader::next(std::string& line) {
  if (!std::getline(in_, line)) return false;
  ++line_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string id_prefix(const fs::path& file, const fs::path& base) {
  fs::path shown = file.filename();
  if (!base.empty() && fs::is_directory(base)) {
    const fs::path rel = file.lexically_relative(base);
    if (!rel.empty() && *rel.begin() != "..") shown = rel;
  }
  return shown.generic_string();
}

fs::path split_file(const SourceSpec& spec, const std::string& split, const std::string& ext) {
  if (fs::is_regular_file(spec.path)) return spec.path;
  return spec.path / (split + ext);
}

void require_exists(const fs::path& p, const SourceSpec& spec) {
  std::error_code ec;
  if (!fs::exists(p, ec))
    fail_input("{}: no such file or folder (source '{}', format {})", p.string(), spec.name,
               spec.format);
}

void warn_if_empty(const Corpus& rows, const fs::path& p, const SourceSpec& spec) {
  // A corpus table without rows is refused by read_corpus_table: no warning before the error.
  if (rows.size() == 0 && spec.name != "corpus table")
    log::warn("{}: no rows for split '{}' (source '{}', format {})", p.string(), spec.split,
              spec.name, spec.format);
}

}  // namespace strata::data

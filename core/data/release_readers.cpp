// Readers of the six datasets' own release formats (documented in corpus_readers.h).
#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/data/csv_parser.h"
#include "core/data/reader_support.h"
#include "core/data/text_encoding.h"
#include "core/text/utf8.h"
#include "core/util/error.h"
#include "core/util/log.h"

namespace strata::data {

namespace fs = std::filesystem;

namespace {

// ---- aclImdb -------------------------------------------------------------------------------

// Sort key of "<id>_<rating>.txt": the id as a number, so 2_3.txt precedes 10_1.txt.
std::uint64_t leading_number(const std::string& name) {
  std::uint64_t v = 0;
  std::size_t i = 0;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) {
    if (v > std::numeric_limits<std::uint64_t>::max() / 10 - 1) break;
    v = v * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return i == 0 ? std::numeric_limits<std::uint64_t>::max() : v;
}

std::vector<std::string> sorted_txt_files(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".txt") continue;
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    const auto na = leading_number(a), nb = leading_number(b);
    return na != nb ? na < nb : a < b;
  });
  return names;
}

// ---- CSV releases --------------------------------------------------------------------------

struct CsvRelease {
  const char* format;
  std::array<const char*, 2> text_columns;  // after the label column
  std::int64_t first_label, last_label;     // label values in the file; stored minus first
  bool strip;                               // strip the joined text (authors' code, amazon)
  bool two_column_variant;                  // (class, text) rows accepted
};

constexpr CsvRelease kAmazon{"amazon-polarity-csv", {"title", "content"}, 1, 2, true, false};
constexpr CsvRelease kAgNews{"ag-news-csv", {"title", "description"}, 1, 4, false, true};

// Indices (0 or 1) of the text columns to join, in the order asked.
std::vector<std::size_t> chosen_text_columns(const SourceSpec& spec, const CsvRelease& rel) {
  if (spec.text_fields.empty()) return {0, 1};
  std::vector<std::size_t> cols;
  for (const auto& f : spec.text_fields) {
    const auto it = std::find_if(rel.text_columns.begin(), rel.text_columns.end(),
                                 [&](const char* c) { return f == c; });
    if (it == rel.text_columns.end())
      fail_input("source '{}': text field '{}' is not a column of format {} ({}, {})", spec.name,
                 f, rel.format, rel.text_columns[0], rel.text_columns[1]);
    cols.push_back(static_cast<std::size_t>(it - rel.text_columns.begin()));
  }
  return cols;
}

Corpus read_csv_release(const SourceSpec& spec, const CsvRelease& rel) {
  require_exists(spec.path, spec);
  const fs::path file = split_file(spec, spec.split, ".csv");
  require_exists(file, spec);
  const auto columns = chosen_text_columns(spec, rel);
  Corpus out;
  RowCollector rows(spec, out);
  CsvParser parser(file, CsvDialect{});
  const std::string prefix = id_prefix(file, spec.path);
  std::vector<std::string> f;
  while (!rows.full() && parser.next(f)) {
    const std::size_t line = parser.record_line();
    const bool two = rel.two_column_variant && f.size() == 2;
    if (f.size() != 3 && !two)
      fail_input("{}:{}: expected 3 columns (label, {}, {}), found {}", file.string(), line,
                 rel.text_columns[0], rel.text_columns[1], f.size());
    const auto label = parse_int(f[0]);
    if (!label || *label < rel.first_label || *label > rel.last_label)
      fail_input("{}:{}: label '{}' is not an integer in {}..{}", file.string(), line,
                 rows.repaired(f[0]), rel.first_label, rel.last_label);
    std::string text;
    if (two) {
      text = f[1];
    } else {
      for (std::size_t k = 0; k < columns.size(); ++k) {
        if (k > 0) text += ' ';
        text += f[1 + columns[k]];
      }
    }
    const std::string clean = rows.repaired(text);
    std::string_view kept = rel.strip ? strip_python_whitespace(clean) : std::string_view(clean);
    rows.add(kept, *label - rel.first_label, line_id(prefix, line));
  }
  rows.finish_file(file);
  warn_if_empty(out, file, spec);
  return out;
}

// The release is Latin-1; a copy re-encoded as UTF-8 would be read as mojibake (each accented
// letter becoming two characters).
void warn_if_utf8_encoded(const std::vector<std::string>& lines, const fs::path& file) {
  bool any_non_ascii = false;
  for (const auto& line : lines) {
    if (is_ascii(line)) continue;
    if (!text::is_valid_utf8(line)) return;  // Latin-1 text with accents is not valid UTF-8
    any_non_ascii = true;
  }
  if (any_non_ascii)
    log::warn("{}: the non-ASCII text is valid UTF-8, but rt-polarity files are Latin-1 and are "
              "read as such: a copy re-encoded as UTF-8 gives two characters per accented letter",
              file.string());
}

// A split name with the release's own spelling ("validation" → "dev" / "val").
std::string release_split(const std::string& split, const char* validation_name) {
  return split == "validation" ? validation_name : split;
}

}  // namespace

Corpus read_aclimdb(const SourceSpec& spec) {
  require_exists(spec.path, spec);
  std::vector<std::pair<std::string, std::int64_t>> folders;
  if (spec.split == "train" || spec.split == "test")
    folders = {{spec.split + "/neg", 0}, {spec.split + "/pos", 1}};
  else if (spec.split == "unsup")
    folders = {{"train/unsup", -1}};
  else
    fail_input("source '{}': split '{}' is not one of train, test, unsup (format aclimdb)",
               spec.name, spec.split);
  Corpus out;
  RowCollector rows(spec, out);
  for (const auto& [folder, label] : folders) {
    const fs::path dir = spec.path / folder;
    require_exists(dir, spec);
    for (const auto& name : sorted_txt_files(dir)) {
      if (!rows.add(read_file_bytes(dir / name), label, folder + "/" + name)) break;
    }
    rows.finish_file(dir);
  }
  warn_if_empty(out, spec.path, spec);
  return out;
}

Corpus read_rt_polarity(const SourceSpec& spec) {
  require_exists(spec.path, spec);
  const bool all = spec.split == "all";
  if (!all && spec.split != "train" && spec.split != "validation" && spec.split != "test")
    fail_input("source '{}': split '{}' is not one of train, validation, test, all "
               "(format rt-polarity)", spec.name, spec.split);
  Corpus out;
  RowCollector rows(spec, out);
  for (const auto& [suffix, label] : {std::pair{".pos", 1}, std::pair{".neg", 0}}) {
    const fs::path file = spec.path / (std::string("rt-polarity") + suffix);
    require_exists(file, spec);
    const std::string prefix = id_prefix(file, spec.path);
    std::vector<std::string> lines;
    LineReader reader(file);
    for (std::string line; reader.next(line);) lines.push_back(std::move(line));
    // Cut points of the Hugging Face builder, round half up: 4265 / 4798 for 5331 lines.
    warn_if_utf8_encoded(lines, file);
    const std::size_t n = lines.size();
    const std::size_t cut1 = (8 * n + 5) / 10, cut2 = (9 * n + 5) / 10;
    std::size_t begin = 0, end = n;
    if (spec.split == "train") end = cut1;
    if (spec.split == "validation") begin = cut1, end = cut2;
    if (spec.split == "test") begin = cut2;
    // Stripped as the Hugging Face builder strips each line (the release ends lines with " ").
    for (std::size_t i = begin; i < end; ++i)
      rows.add(strip_python_whitespace(latin1_to_utf8(lines[i])), label, line_id(prefix, i + 1));
  }
  warn_if_empty(out, spec.path, spec);
  return out;
}

Corpus read_amazon_polarity_csv(const SourceSpec& spec) { return read_csv_release(spec, kAmazon); }
Corpus read_ag_news_csv(const SourceSpec& spec) { return read_csv_release(spec, kAgNews); }

Corpus read_glue_sst2_tsv(const SourceSpec& spec) {
  require_exists(spec.path, spec);
  const fs::path file = split_file(spec, release_split(spec.split, "dev"), ".tsv");
  require_exists(file, spec);
  Corpus out;
  RowCollector rows(spec, out);
  // GLUE's TSV files are unquoted: a quote is text.
  CsvParser parser(file, CsvDialect{'\t', '\0', false});
  std::vector<std::string> header;
  if (!parser.next(header)) {
    warn_if_empty(out, file, spec);
    return out;
  }
  const auto find = [&](const char* name) -> std::ptrdiff_t {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : it - header.begin();
  };
  const std::ptrdiff_t text_col = find("sentence"), label_col = find("label");
  const std::string prefix = id_prefix(file, spec.path);
  if (text_col < 0)
    fail_input("{}:1: header has no 'sentence' column", file.string());
  std::vector<std::string> f;
  while (!rows.full() && parser.next_row(f, header.size())) {
    const std::size_t line = parser.record_line();
    std::int64_t label = -1;
    if (label_col >= 0) {
      const auto v = parse_int(f[static_cast<std::size_t>(label_col)]);
      if (!v) fail_input("{}:{}: label '{}' is not an integer", file.string(), line,
                         rows.repaired(f[static_cast<std::size_t>(label_col)]));
      label = *v;
    }
    rows.add(f[static_cast<std::size_t>(text_col)], label, line_id(prefix, line));
  }
  rows.finish_file(file);
  warn_if_empty(out, file, spec);
  return out;
}

Corpus read_tweet_eval(const SourceSpec& spec) {
  require_exists(spec.path, spec);
  const std::string split = release_split(spec.split, "val");
  const fs::path text_file = spec.path / (split + "_text.txt");
  const fs::path label_file = spec.path / (split + "_labels.txt");
  require_exists(text_file, spec);
  require_exists(label_file, spec);

  std::vector<std::int64_t> labels;
  LineReader label_reader(label_file);
  for (std::string line; label_reader.next(line);) {
    const auto v = parse_int(line);
    if (!v) fail_input("{}:{}: label '{}' is not an integer", label_file.string(),
                       label_reader.line_number(), text::repair_utf8(line));
    labels.push_back(*v);
  }
  std::vector<std::string> texts;
  LineReader text_reader(text_file);
  for (std::string line; text_reader.next(line);) texts.push_back(std::move(line));
  if (texts.size() != labels.size())
    fail_input("{} has {} lines but {} has {}: the two files must be line-aligned",
               text_file.string(), texts.size(), label_file.string(), labels.size());

  Corpus out;
  RowCollector rows(spec, out);
  const std::string prefix = id_prefix(text_file, spec.path);
  for (std::size_t i = 0; i < texts.size(); ++i)
    if (!rows.add(texts[i], labels[i], line_id(prefix, i + 1))) break;
  rows.finish_file(text_file);
  warn_if_empty(out, text_file, spec);
  return out;
}

}  // namespace strata::data

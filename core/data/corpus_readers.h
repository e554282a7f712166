#pragma once
// Corpus readers: each dataset's own release format, plus generic JSONL / CSV / TSV tables.
// Every reader returns every row of the asked split in a deterministic order, with the source
// name, the label (-1 where there is none) and an id that says where the row is.
//
// Ids: "train/pos/123_9.txt" for aclImdb (the rating stays in the file name); "FILE:LINE"
// for every other format, LINE being the 1-based line where the row starts and FILE the
// file's path below the spec's folder (its name when the spec names the file itself). Texts are kept as released: no markup removal, no unescaping, no whitespace
// changes, except where a format says otherwise below. Invalid UTF-8 is repaired (one U+FFFD
// per invalid sequence, as Python's errors="replace") and each file with repaired rows gets a
// warning naming it and the number of rows.
//
// Formats and their `path`:
//   aclimdb             the aclImdb folder; split train|test|unsup (unsup: train/unsup, label
//                       -1). Rows: {split}/neg then {split}/pos (label 0 / 1: negatives
//                       first, as in the Hugging Face `imdb` split), each folder's *.txt files
//                       sorted by the number before '_' (then by name), so "2_3.txt" comes
//                       before "10_1.txt". (Within a label the Hub keeps the archive's order,
//                       which an extracted folder does not have; sweeps/fetch_paper_inputs.py
//                       names its files by Hub row index, so there the two orders agree.)
//   rt-polarity         the folder holding rt-polarity.pos and rt-polarity.neg (Latin-1, one
//                       sentence a line; converted to UTF-8). The release has no splits; this
//                       reader cuts each file as the Hugging Face `rotten_tomatoes` builder
//                       does: train = lines [0, round(0.8 n)), validation = [round(0.8 n),
//                       round(0.9 n)), test = the rest (4265 / 533 / 533 for n = 5331); split
//                       "all" takes every line. Rows: pos lines (label 1) then neg (label 0),
//                       each stripped of surrounding whitespace as that builder does (the
//                       release ends every sentence with a space).
//   amazon-polarity-csv the CSV (or a folder holding {split}.csv): no header, columns
//                       label (1|2 → 0|1), title, content.
//   ag-news-csv         the CSV (or a folder holding {split}.csv): no header, columns
//                       class (1..4 → 0..3), title, description. A two-column variant
//                       (class, text) is accepted as well: the text is then taken as is.
//                       For both CSV releases the text is `text_fields` (default: every text
//                       column, title first) joined by one space — the way the Hugging Face
//                       ag_news builder and the authors' code (for amazon_polarity) build it;
//                       amazon texts are then stripped of surrounding whitespace, as the
//                       authors' code does (f"{title} {content}".strip()). Field names:
//                       amazon "title", "content"; ag news "title", "description".
//                       CSV parsing follows Python's csv module (see csv_parser.h): "" is one
//                       quote, line breaks inside quotes are kept, and backslash sequences such
//                       as \n or \" are left exactly as written, as Hugging Face `datasets`
//                       serves these texts.
//   glue-sst2-tsv       the SST-2 folder ({split}.tsv with split train|dev|test; "validation"
//                       means dev) or a .tsv file. Header row; columns found by name
//                       (sentence, label); the test split has index, sentence and no label
//                       (label -1). No quoting: quotes are text (GLUE's files are unquoted).
//   tweet-eval          the task folder holding {split}_text.txt and {split}_labels.txt
//                       (split train|val|test; "validation" means val), line-aligned; texts
//                       as in the file (only the line ending removed).
//   jsonl               a JSON-lines file (or a folder holding {split}.jsonl): one object a
//                       line, blank lines skipped. text_field (string), label_field (integer,
//                       integral number, boolean, string, or absent/null → -1), id_field
//                       (string or integer; default FILE:LINE), source_column (a string naming
//                       the row's source). A string label holding a decimal integer is that
//                       integer; other string labels are numbered 0, 1, ... in order of first
//                       appearance in the file (the mapping is logged at info level); a file
//                       mixing integer and named labels is an error.
//   csv, tsv            a table with a header row (or a folder holding {split}.csv/.tsv);
//                       fields as for jsonl; label cells: an integer, empty (→ -1) or a string
//                       (numbered by first appearance, as above). `delimiter` overrides the
//                       format's (',' / '\t'); quoting as in csv_parser.h unless `quote` is 0.
//                       A UTF-8 byte-order mark before the header is ignored.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/data/corpus.h"
#include "core/spec/schema_fwd.h"

namespace strata {

struct SourceSpec {
  std::string name;     // written into Corpus::source (unless source_column is set)
  std::string format;   // one of known_formats()
  std::filesystem::path path;  // folder or file, as the format wants
  std::string split = "train";
  std::string text_field = "text", label_field = "label", id_field = "", source_column = "";
  std::vector<std::string> text_fields;  // CSV releases: columns joined into the text
  char delimiter = '\0';  // csv / tsv: overrides ',' / '\t'
  char quote = '"';       // csv / tsv: '\0' reads quotes as ordinary characters
  std::size_t max_rows = 0;  // 0 = every row; else stop after this many (the split's first rows)
  static const spec::Schema<SourceSpec>& schema();  // [[corpus.source]] (corpus_spec.cpp)
};

// Every row of the split, in a deterministic order. Throws InputError for a missing path
// ("PATH: no such file or folder (source 'imdb', format aclimdb)"), an unknown format, or
// malformed content (naming the file and line).
Corpus read_source(const SourceSpec& spec);

// A table with text and source columns, optional label and id (JSONL, CSV or TSV by the
// file's extension: .jsonl/.json, .csv, .tsv). Used for corpora aligned with vectors computed
// elsewhere. Labels must be integers or empty (-1).
Corpus read_corpus_table(const std::filesystem::path& jsonl_or_csv);

std::vector<std::string> known_formats();

}  // namespace strata

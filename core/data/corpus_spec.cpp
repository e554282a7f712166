#include "core/data/corpus_spec.h"

#include <set>

#include "core/io/fingerprint.h"
#include "core/spec/fields.h"
#include "core/util/hash.h"

namespace strata {

const spec::Schema<SourceSpec>& SourceSpec::schema() {
  using S = SourceSpec;
  static const auto sc = [] {
    spec::Schema<S> s("corpus.source", "One dataset in its release format.");
    s.add(spec::field(&S::name, "name", "the source's name (written into every row's source)", {},
                      spec::kRequired | spec::kNonEmpty))
        .add(spec::field(&S::format, "format", "the release format", spec::one_of(known_formats()),
                         spec::kRequired | spec::kNonEmpty))
        .add(spec::field(&S::path, "path", "folder or file, as the format wants", {},
                         spec::kRequired | spec::kNonEmpty | spec::kByContent))
        .add(spec::field(&S::split, "split", "which split to read (train, test, validation, ...)"))
        .add(spec::field(&S::text_field, "text_field", "jsonl/csv/tsv: the text column"))
        .add(spec::field(&S::label_field, "label_field", "jsonl/csv/tsv: the label column (absent: no labels)"))
        .add(spec::field(&S::id_field, "id_field", "jsonl/csv/tsv: the id column (empty: row numbers)"))
        .add(spec::field(&S::source_column, "source_column",
                         "jsonl/csv/tsv: a column naming each row's source (instead of name)"))
        .add(spec::field(&S::text_fields, "text_fields", "csv releases: columns joined into the text"))
        .add(spec::field(&S::delimiter, "delimiter", "csv/tsv: the field separator (\"\": ',' or tab)"))
        .add(spec::field(&S::quote, "quote", "csv/tsv: the quote character (\"\": quotes are ordinary characters)"));
    return s;
  }();
  return sc;
}

const spec::Schema<CorpusSpec>& CorpusSpec::schema() {
  using S = CorpusSpec;
  static const auto sc = [] {
    spec::Schema<S> s("corpus",
                      "The texts: [[corpus.source]] entries (datasets in their release formats), table = \"FILE\" "
                      "(a ready corpus), or [corpus.synthetic] (points of known dimension).");
    s.add(spec::field(&S::samples_per_source, "samples_per_source", "rows drawn from each source (0: every row)",
                      spec::range(0, 9e15)))
        .add(spec::field(&S::sampling, "sampling", "random: seeded, without replacement; first: the first N rows",
                         spec::one_of({"random", "first"})))
        .add(spec::field(&S::balance_labels, "balance_labels", "equal counts per label where possible"))
        .add(spec::field(&S::min_chars, "min_chars", "texts shorter than this (code points) are left out",
                         spec::range(0, 9e15)))
        .add(spec::field(&S::max_chars, "max_chars", "texts longer than this are left out (0: no bound)",
                         spec::range(0, 9e15)))
        .add(spec::field(&S::table, "table", "a corpus table: JSONL or CSV/TSV with text, source[, label, id]", {},
                         spec::kByContent))
        .add(spec::field(&S::sources, "source", "datasets, as [[corpus.source]] tables"))
        .add(spec::field(&S::synthetic, "synthetic", "a synthetic space, as a [corpus.synthetic] table"))
        .add(spec::field(&S::seed, "seed", "from [experiment] seed", {}, spec::kInternal))
        .add(spec::field(&S::fingerprint, "fingerprint", "content of the files read", {}, spec::kInternal));
    s.check([](const S& c, const spec::Reader& r, const std::string& where) {
      if (c.max_chars > 0 && c.max_chars < c.min_chars)
        r.fail(spec::Reader::child(where, "max_chars"), "corpus.max_chars = {} is below corpus.min_chars = {}",
               c.max_chars, c.min_chars);
      const int kinds = !c.sources.empty() + c.table.has_value() + c.synthetic.has_value();
      if (kinds != 1)
        r.fail(where, "[corpus] needs exactly one of: [[corpus.source]] entries, table = \"FILE\", or [corpus.synthetic]");
      std::set<std::string> names;
      for (std::size_t i = 0; i < c.sources.size(); ++i)
        if (!names.insert(c.sources[i].name).second)
          r.fail(spec::Reader::child(spec::Reader::child(where, "source"), std::to_string(i)),
                 "source name '{}' is used twice; every [[corpus.source]] needs its own name", c.sources[i].name);
    });
    return s;
  }();
  return sc;
}

CorpusSpec canonical(CorpusSpec c) {
  const CorpusSpec defaults;
  if (c.table || c.synthetic) {
    c.samples_per_source = defaults.samples_per_source;
    c.sampling = defaults.sampling;
    c.balance_labels = defaults.balance_labels;
    c.min_chars = defaults.min_chars;
    c.max_chars = defaults.max_chars;
  }
  if (c.table) c.seed = 0;
  if (c.synthetic) c.synthetic->seed = c.seed;
  return c;
}

std::string content_fingerprint(const CorpusSpec& c) {
  if (c.synthetic) return "";
  Sha256 h;
  if (c.table) h.field(io::path_fingerprint(*c.table));
  for (const auto& s : c.sources) h.field(io::path_fingerprint(s.path));
  return h.hex();
}

}  // namespace strata

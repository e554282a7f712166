#pragma once
// The corpus job's spec: the [corpus] table of a sweep, or `strata embed --corpus TABLE`.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/data/corpus_readers.h"
#include "core/data/synthetic.h"

namespace strata {

struct CorpusSpec {
  std::int64_t samples_per_source = 0;  // 0: every row
  std::string sampling = "random";      // random | first
  bool balance_labels = false;
  std::int64_t min_chars = 0, max_chars = 0;
  std::optional<std::filesystem::path> table;  // a ready corpus table (jsonl/csv/tsv)
  std::vector<SourceSpec> sources;
  std::optional<SyntheticSpec> synthetic;
  std::uint64_t seed = 0;   // from [experiment] seed
  std::string fingerprint;  // the content of every file the corpus reads (content_fingerprint)
  static const spec::Schema<CorpusSpec>& schema();
};

// The spec with what cannot change its rows set to defaults (a table is read whole: no seed, no
// sampling; a synthetic space has no sources), so equal corpora have equal ids however they
// were asked for (a sweep's table and `strata embed --corpus`).
CorpusSpec canonical(CorpusSpec c);

// A digest of the content of every file the corpus reads (sources' files and folders, the
// table). Files are hashed once and remembered by path, size and modification time
// (core/io/fingerprint.h). Synthetic corpora read nothing: "".
std::string content_fingerprint(const CorpusSpec& c);

}  // namespace strata

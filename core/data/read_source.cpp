// Entry point of the corpus readers: picks the reader of a source's format.
#include <functional>
#include <map>

#include "core/data/corpus_readers.h"
#include "core/data/reader_support.h"
#include "core/util/error.h"
#include "core/util/log.h"

namespace strata {

namespace {

using Reader = std::function<Corpus(const SourceSpec&)>;

const std::map<std::string, Reader>& readers() {
  static const std::map<std::string, Reader> table{
      {"aclimdb", data::read_aclimdb},
      {"rt-polarity", data::read_rt_polarity},
      {"amazon-polarity-csv", data::read_amazon_polarity_csv},
      {"ag-news-csv", data::read_ag_news_csv},
      {"glue-sst2-tsv", data::read_glue_sst2_tsv},
      {"tweet-eval", data::read_tweet_eval},
      {"fortune", data::read_fortune},
      {"jsonl", data::read_jsonl_table},
      {"csv", data::read_delimited_table},
      {"tsv", data::read_delimited_table},
  };
  return table;
}

}  // namespace

std::vector<std::string> known_formats() {
  // In the order the documentation lists them.
  return {"aclimdb",       "rt-polarity", "amazon-polarity-csv", "ag-news-csv", "glue-sst2-tsv",
          "tweet-eval",    "fortune",     "jsonl",       "csv",                 "tsv"};
}

Corpus read_source(const SourceSpec& spec) {
  const auto it = readers().find(spec.format);
  if (it == readers().end()) {
    std::string names;
    for (const auto& f : known_formats()) names += (names.empty() ? "" : ", ") + f;
    fail_input("source '{}': unknown format '{}' (known: {})", spec.name, spec.format, names);
  }
  if (spec.name.empty() && spec.source_column.empty())
    fail_input("{}: the source has no name (format {})", spec.path.string(), spec.format);
  Corpus rows = it->second(spec);
  rows.check_consistent();
  log::debug("source '{}': {} rows from {} (format {}, split {})", spec.name, rows.size(),
             spec.path.string(), spec.format, spec.split);
  return rows;
}

}  // namespace strata

// The corpus job: read every source in its release format and sample it, read a ready
// corpus table, or lay out the rows of a synthetic space.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/data/corpus_readers.h"
#include "core/data/sampling.h"
#include "core/util/error.h"
#include "workers/jobs.h"

namespace strata::workers {

Corpus build_corpus(const CorpusSpec& job) {
  if (job.synthetic) return generate_synthetic(*job.synthetic).corpus;
  if (job.table) return read_corpus_table(*job.table);
  SamplingSpec sampling;
  sampling.per_source = static_cast<std::size_t>(job.samples_per_source);
  sampling.seed = job.seed;
  sampling.mode = job.sampling;
  sampling.balance_labels = job.balance_labels;
  sampling.min_chars = static_cast<std::size_t>(job.min_chars);
  sampling.max_chars = static_cast<std::size_t>(job.max_chars);
  Corpus all;
  for (const auto& s : job.sources) all.append(sample_rows(read_source(s), sampling));
  if (all.size() == 0) {
    std::vector<std::string> paths;
    for (const auto& s : job.sources) paths.push_back(s.path.string());
    fail_input("the corpus has no rows: its sources ({}) hold none", fmt::join(paths, ", "));
  }
  return all;
}

Payload corpus_payload(const Corpus& c) {
  c.check_consistent();
  Payload p;
  p.strings["text"] = c.text;
  p.strings["source"] = c.source;
  p.strings["id"] = c.id;
  p.strings["source_names"] = c.source_names();
  p.tensors["label"] = torch::tensor(c.label, torch::kInt64);
  p.attrs["fingerprint"] = c.fingerprint();
  p.numbers["rows"] = static_cast<double>(c.size());
  return p;
}

// What an archive holds is checked like any input: it may be damaged or written by others.
Corpus corpus_from_payload(const Payload& p) {
  for (const char* name : {"text", "source", "id"})
    if (!p.strings.count(name)) fail_input("the corpus has no string dataset '{}'", name);
  if (!p.tensors.count("label") || p.tensors.at("label").dim() != 1)
    fail_input("the corpus has no dataset 'label' of one dimension");
  Corpus c;
  c.text = p.strings.at("text");
  c.source = p.strings.at("source");
  c.id = p.strings.at("id");
  const auto label = p.tensor("label").to(torch::kInt64).contiguous();
  c.label.assign(label.data_ptr<std::int64_t>(), label.data_ptr<std::int64_t>() + label.numel());
  c.check_consistent();
  return c;
}

}  // namespace strata::workers

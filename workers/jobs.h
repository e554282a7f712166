#pragma once
// The four kinds of work, each a plain function from its spec and inputs to a Payload.
// Specs hold core types only, so a worker needs nothing of the sweep file or the archive.
#include <torch/torch.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cluster/process_group.h"
#include "core/data/corpus.h"
#include "core/data/synthetic.h"
#include "workers/payload.h"

namespace strata::workers {

// --- corpus ---------------------------------------------------------------------------
struct CorpusSource {
  std::string name, format, split, text_field, label_field, id_field, source_column;
  std::filesystem::path path;
  std::vector<std::string> text_fields;
};
struct CorpusJob {
  std::vector<CorpusSource> sources;
  std::int64_t per_source = 0;
  std::string sampling = "random";
  bool balance_labels = false;
  std::int64_t min_chars = 0, max_chars = 0;
  std::uint64_t seed = 0;
  std::optional<std::filesystem::path> table;
  std::optional<SyntheticSpec> synthetic;
};
Corpus build_corpus(const CorpusJob& job);
Payload corpus_payload(const Corpus& c);  // text, source, label, id + source names
Corpus corpus_from_payload(const Payload& p);

// --- embeddings -----------------------------------------------------------------------
struct EmbedJob {
  std::string kind;  // text_model | import | synthetic | null_model | merge_shards
  std::filesystem::path model_path, import_path;
  std::string import_dataset, pooling = "mean", dtype = "fp32";
  std::int64_t max_tokens = 512, batch_size = 64, batch_tokens = 0;
  bool normalize = false;
  std::optional<SyntheticSpec> synthetic;
  std::uint64_t seed = 0;  // null model draws
  // text_model: this job embeds shard `shard` of `shards` (core/nn/embed_shards.h).
  std::int64_t shard = 0, shards = 1;
};
// `null_source`: the embeddings a null model mirrors (kind null_model only). A text model in
// shards gives its part: `rows` [R] int64 (corpus rows) and `data` [R, L].
Payload run_embed(const EmbedJob& job, const Corpus& corpus, torch::Device device,
                  const torch::Tensor* null_source = nullptr);
// The embedding from all its shards' payloads (in shard order): `data` [rows, L] in corpus
// order, with the shards' model attributes. Every corpus row must come from exactly one shard.
Payload merge_shards(const std::vector<const Payload*>& shards, std::int64_t rows);
// Reads vectors computed elsewhere (.npy, or .h5/.hdf5 with a dataset path) and checks
// their row count against the corpus.
torch::Tensor import_vectors(const std::filesystem::path& file, const std::string& dataset, std::int64_t rows);

// --- training -------------------------------------------------------------------------
struct TrainJob {
  std::int64_t atoms = 32, lista_steps = 3, gate_dim = 64, epochs = 100, batch_size = 256, pca_dim = 64;
  std::vector<std::int64_t> sparsity;
  std::string gate = "attention", preset = "paper";
  double lr = 1e-3, load_balance = 0, entropy_weight = 0;
  bool standardize = false;
  std::uint64_t seed = 0;
};
Payload run_train(const TrainJob& job, const torch::Tensor& X, const torch::Tensor& labels, torch::Device device,
                  cluster::ProcessGroup* group = nullptr);

// --- analysis -------------------------------------------------------------------------
struct AnalysisJob {
  std::int64_t strata = 5;
  std::string strata_on = "embeddings";
  std::int64_t pca_dim = 0, kmeans_restarts = 10, mle_k = 20, bootstrap = 0;
  double variance_fraction = 0.75;
  std::uint64_t seed = 0;
};
struct AnalysisInputs {
  torch::Tensor X;         // [N,L] embeddings
  torch::Tensor gating;    // [N,E]
  torch::Tensor sparsity;  // [E]
  torch::Tensor domain;    // [N] int64 source index
  std::int64_t domains = 0;
};
Payload run_analysis(const AnalysisJob& job, const AnalysisInputs& in);

}  // namespace strata::workers

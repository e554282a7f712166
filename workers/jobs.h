#pragma once
// The four kinds of work, each a plain function from its spec and inputs to a Payload. The
// specs are core's (declared once, with their schemas), so a worker needs nothing of the sweep
// file or the archive.
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/analysis/analysis_spec.h"
#include "core/data/corpus.h"
#include "core/data/corpus_spec.h"
#include "core/moe/config.h"
#include "core/nn/embed_spec.h"
#include "core/parallel/process_group.h"
#include "workers/payload.h"

namespace strata::workers {

// --- corpus ---------------------------------------------------------------------------
Corpus build_corpus(const CorpusSpec& spec);
Payload corpus_payload(const Corpus& c);  // text, source, label, id + source names
Corpus corpus_from_payload(const Payload& p);

// --- embeddings -----------------------------------------------------------------------
// `null_source`: the embeddings a null model mirrors (kind null_model only). A text model in
// shards gives its part: `rows` [R] int64 (corpus rows) and `data` [R, L].
Payload run_embed(const nn::EmbedSpec& job, const Corpus& corpus, torch::Device device,
                  const torch::Tensor* null_source = nullptr);
// The embedding from all its shards' payloads (in shard order): `data` [rows, L] in corpus
// order, with the shards' model attributes. Every corpus row must come from exactly one shard.
Payload merge_shards(const std::vector<const Payload*>& shards, std::int64_t rows);
// Reads vectors computed elsewhere (.npy, or .h5/.hdf5 with a dataset path) and checks
// their row count against the corpus.
torch::Tensor import_vectors(const std::filesystem::path& file, const std::string& dataset, std::int64_t rows);

// --- training -------------------------------------------------------------------------
Payload run_train(const moe::MoeConfig& job, const torch::Tensor& X, const torch::Tensor& labels, torch::Device device,
                  parallel::ProcessGroup* group = nullptr);

// --- analysis -------------------------------------------------------------------------
struct AnalysisInputs {
  torch::Tensor X;         // [N,L] embeddings
  torch::Tensor gating;    // [N,E]
  torch::Tensor sparsity;  // [E]
  torch::Tensor domain;    // [N] int64 source index
  std::int64_t domains = 0;
  // The trained model's outputs and statistics, for its health (undefined: not judged).
  torch::Tensor recon_error;                         // [N]
  torch::Tensor support;                             // [N,E,M]
  torch::Tensor thresholds;                          // [E,M] LISTA thresholds (undefined: none)
  std::map<std::string, torch::Tensor> input_stats;  // input_mean/input_std or pca_mean/pca_components
  std::string gate_training = "trained";             // or "untrained" (the authors' routing), "none" (uniform)
  // A synthetic space's truth (undefined otherwise): true stratum [N] and dimensions [K].
  torch::Tensor truth, true_dims;
};
Payload run_analysis(const analysis::AnalysisSpec& job, const AnalysisInputs& in);

}  // namespace strata::workers

#pragma once
// The five kinds of work, each a plain function from its spec and inputs to a Payload. The
// specs are core's (declared once, with their schemas), so a worker needs nothing of the sweep
// file or the archive.
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/analysis/analysis_spec.h"
#include "core/analysis/geometry_spec.h"
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
// shards gives its part: `rows` [R] int64 (corpus rows) and `data` [R, L]. A text model of
// several layers gives L<k> for each (and the string list `layers`) instead of `data`; one of
// pooling "tokens" also `text_row`, `position` and `token_id` [R] int64: which token each row is.
Payload run_embed(const nn::EmbedSpec& job, const Corpus& corpus, torch::Device device,
                  const torch::Tensor* null_source = nullptr);
// The embedding from all its shards' payloads (in shard order): `data` [rows, L] (or one L<k> per
// layer) in corpus order, with the shards' model attributes. Every corpus row must come from
// exactly one shard; token rows (pooling "tokens") are ordered by text row, then position.
Payload merge_shards(const std::vector<const Payload*>& shards, std::int64_t rows);
// One layer of a text model's several (its layers payload's L<k>, k = job.layer) as an embedding.
Payload layer_of(const nn::EmbedSpec& job, const Payload& layers);
// Reads vectors computed elsewhere (.npy, or .h5/.hdf5 with a dataset path) and checks
// their row count against the corpus.
torch::Tensor import_vectors(const std::filesystem::path& file, const std::string& dataset, std::int64_t rows);

// --- training -------------------------------------------------------------------------
Payload run_train(const moe::MoeConfig& job, const torch::Tensor& X, const torch::Tensor& labels, torch::Device device,
                  parallel::ProcessGroup* group = nullptr);
// Models of fusable configurations trained together (moe::train_moe_group): each one's payload,
// the one run_train gives it alone; a model that failed alone gets only the attribute `failure`.
std::vector<Payload> run_train_group(const std::vector<moe::MoeConfig>& jobs, const torch::Tensor& X, torch::Device device);

// --- strata ---------------------------------------------------------------------------
// The space an analysis finds its strata in.
struct StrataInputs {
  torch::Tensor X;         // [N,L] embeddings: the strata's dimensions are measured here
  torch::Tensor features;  // what k-means clusters: X, or the gating [N,E] (strata_on = "gating")
  torch::Tensor domain;    // [N] int64 source index
  std::int64_t domains = 0;
  // A synthetic space's truth (undefined otherwise): true stratum [N] and dimensions [K].
  torch::Tensor truth, true_dims;
};
// The strata (out/strata) and what depends on them and the embedding alone: dimensions by every
// estimator (also size-matched and against size), sizes, agreement with the sources, the
// dimensions' intervals and, on a synthetic space, the truth beside them.
Payload run_strata(const analysis::AnalysisSpec& job, const StrataInputs& in);
// Where run_strata's results are (datasets, or groups of them) for `job` on an embedding with or
// without truth: what a run reading them links, at the same paths.
std::vector<std::string> strata_paths(const analysis::AnalysisSpec& job, bool truth);

// --- analysis -------------------------------------------------------------------------
struct AnalysisInputs {
  StrataInputs space;
  torch::Tensor gating;    // [N,E]
  torch::Tensor sparsity;  // [E]
  // The trained model's outputs and statistics, for its health (undefined: not judged).
  torch::Tensor recon_error;                         // [N]
  torch::Tensor support;                             // [N,E,M]
  torch::Tensor thresholds;                          // [E,M] LISTA thresholds (undefined: none)
  std::map<std::string, torch::Tensor> input_stats;  // input_mean/input_std or pca_mean/pca_components
  std::string gate_training = "trained";             // or "untrained" (the authors' routing), "none" (uniform)
};
// A run: what reads the trained model (Table 2, entropies, gating by stratum and by domain, their
// intervals, health, the truth's rank agreement with the weighted sparsity). `strata`: the
// run_strata payload of its embedding (strata_on = "embeddings"), read here and not repeated in
// the result (a run links it); nullptr: strata on the gating, found here and part of the result.
Payload run_analysis(const analysis::AnalysisSpec& job, const AnalysisInputs& in, const Payload* strata);

// --- geometry -------------------------------------------------------------------------
// An embedding's geometry (core/analysis/geometry/geometry.h) with `groups` [N] int64 (the true
// strata or the sources, `group_names` naming them), and its neighbourhood overlap with each of
// `others` (other embeddings of the same rows: the model's other layers, other models). Every
// result is stored with its meaning: the group's attribute `doc` maps each name to it.
Payload run_geometry(const analysis::GeometrySpec& job, const torch::Tensor& X, const torch::Tensor& groups,
                     const std::vector<std::string>& group_names, const std::string& group_kind,
                     const std::map<std::string, torch::Tensor>& others, torch::Device device);

}  // namespace strata::workers

// The analysis, in two jobs. The strata job: strata by k-means and what depends on them and the
// embedding alone: intrinsic dimensions by every estimator of id_estimators.h (also at a common
// size, and against size), agreement with the sources, intervals by subsampling and, on a
// synthetic space, the truth beside them. The analysis job (a run): the paper's Table 2 and what
// it needs to be read with confidence: gating-weighted sparsity, entropies, gating by stratum and
// by domain, their intervals, and whether the model's readouts can be informative at all.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/analysis/analysis.h"
#include "core/analysis/ground_truth.h"
#include "core/analysis/id_estimators.h"
#include "core/analysis/model_health.h"
#include "core/moe/input_transform.h"
#include "core/util/crash_point.h"
#include "core/util/error.h"
#include "core/util/host_memory.h"
#include "core/util/log.h"
#include "workers/jobs.h"

namespace strata::workers {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

torch::Tensor strata_of(const analysis::AnalysisSpec& job, const StrataInputs& in) {
  torch::Tensor features = in.features.to(torch::kFloat64);
  if (job.strata_on == "embeddings" && job.pca_dim > 0 && job.pca_dim < features.size(1))
    features = analysis::pca_transform(analysis::pca(features, job.pca_dim), features, job.pca_dim);
  const auto km = analysis::kmeans(features, static_cast<int>(job.strata), job.seed,
                                   static_cast<int>(job.kmeans_restarts));
  return analysis::canonical_labels(km.labels, static_cast<int>(job.strata));
}

torch::Tensor values(const std::vector<double>& v) { return torch::tensor(v, torch::kFloat64); }

// Per stratum: [S,3] (estimate, low, high) of `stat` by subsampling its points; NaN rows for
// strata that are too small.
torch::Tensor per_stratum_ci(const torch::Tensor& strata, std::int64_t S, const analysis::AnalysisSpec& job,
                             std::uint64_t seed, const std::function<double(const torch::Tensor& rows)>& stat) {
  auto out = torch::full({S, 3}, kNaN, torch::kFloat64);
  for (std::int64_t s = 0; s < S; ++s) {
    const auto rows = (strata == s).nonzero().flatten();
    if (rows.numel() < job.floor()) continue;
    const auto iv = analysis::subsample_ci(
        rows.numel(), [&](const torch::Tensor& idx) { return stat(rows.index_select(0, idx)); },
        static_cast<int>(job.bootstrap), seed + static_cast<std::uint64_t>(s));
    out[s][0] = iv.estimate;
    out[s][1] = iv.lo;
    out[s][2] = iv.hi;
  }
  return out;
}

// The intervals' seeds: each statistic draws its own subsamples.
constexpr std::uint64_t kWeightedSparsitySeed = 0, kEntropySeed = 101, kFirstEstimatorSeed = 202, kEstimatorSeedStep = 101;

void add_dimension_intervals(const analysis::AnalysisSpec& job, const StrataInputs& in, const torch::Tensor& strata,
                             Payload& p) {
  const auto X = in.X.to(torch::kFloat64);
  std::uint64_t offset = kFirstEstimatorSeed;
  for (const auto& e : analysis::id_estimators()) {
    p.tensors["analysis/ci/" + e.name] = per_stratum_ci(strata, job.strata, job, job.seed + offset,
                                                        [&](const torch::Tensor& r) { return e.estimate(X.index_select(0, r), job); });
    offset += kEstimatorSeedStep;
  }
}

void add_gating_intervals(const analysis::AnalysisSpec& job, const torch::Tensor& strata, const torch::Tensor& ws_per_point,
                          const torch::Tensor& entropy, Payload& p) {
  p.tensors["analysis/ci/weighted_sparsity"] =
      per_stratum_ci(strata, job.strata, job, job.seed + kWeightedSparsitySeed,
                     [&](const torch::Tensor& r) { return ws_per_point.index_select(0, r).mean().item<double>(); });
  p.tensors["analysis/ci/entropy"] =
      per_stratum_ci(strata, job.strata, job, job.seed + kEntropySeed,
                     [&](const torch::Tensor& r) { return entropy.index_select(0, r).mean().item<double>(); });
}

// The stratum dimensions (NaN for strata below the floor, which are flagged), the same at a
// common size, and against size.
void add_dimensions(const analysis::AnalysisSpec& job, const StrataInputs& in, const torch::Tensor& strata, Payload& p) {
  const int S = static_cast<int>(job.strata);
  const auto X = in.X.to(torch::kFloat64);
  const auto dims = analysis::stratum_dimensions(X, strata, S, job);
  std::vector<std::uint8_t> too_small;
  std::int64_t smallest = 0, largest = 0;
  for (const auto size : dims.sizes) {
    too_small.push_back(size < job.floor());
    if (size >= job.floor()) smallest = smallest == 0 ? size : std::min(smallest, size);
    largest = std::max(largest, size);
  }
  for (auto [name, v] : dims.dims) {
    for (int s = 0; s < S; ++s)
      if (too_small[static_cast<std::size_t>(s)]) v[static_cast<std::size_t>(s)] = kNaN;
    p.tensors["analysis/dims/" + name] = values(v);
  }
  p.tensors["analysis/sizes"] = torch::tensor(dims.sizes, torch::kInt64);
  p.tensors["analysis/too_small"] = torch::tensor(std::vector<std::int64_t>(too_small.begin(), too_small.end())).to(torch::kUInt8);
  p.numbers["min_stratum"] = static_cast<double>(job.floor());
  const std::int64_t n = job.matched_n > 0 ? job.matched_n : smallest;
  p.numbers["matched_n"] = static_cast<double>(n);
  for (const auto& [name, v] : analysis::dimensions_at(X, strata, S, job, n, job.matched_repeats, job.seed + 31))
    p.tensors["analysis/matched/" + name] = values(v);
  const auto sizes = analysis::curve_sizes(job.floor(), largest);
  p.tensors["analysis/id_vs_n/n"] = torch::tensor(sizes, torch::kInt64);
  std::map<std::string, std::vector<double>> curves;  // [S, sizes] row-major
  for (const auto size : sizes)
    for (const auto& [name, v] : analysis::dimensions_at(X, strata, S, job, size, std::max<std::int64_t>(1, job.matched_repeats / 2),
                                                         job.seed + 37 + static_cast<std::uint64_t>(size)))
      for (int s = 0; s < S; ++s) curves[name].push_back(v[static_cast<std::size_t>(s)]);
  for (const auto& [name, v] : curves)
    p.tensors["analysis/id_vs_n/" + name] =
        values(v).view({static_cast<std::int64_t>(sizes.size()), S}).t().contiguous();
}

// Whether the run's Table 2 can be read: the model's health and the variance it explains inside
// the strata, in the space the model saw.
void add_health(const analysis::AnalysisSpec& job, const AnalysisInputs& in, const torch::Tensor& strata, Payload& p) {
  const auto Xm = moe::model_space(in.space.X, in.input_stats);
  const auto h = analysis::model_health(Xm, in.gating, in.recon_error, in.support, in.sparsity, in.thresholds);
  const auto within = analysis::within_stratum_variance_explained(Xm, in.recon_error, strata, job.strata);
  p.tensors["analysis/health/within_stratum_variance_explained"] = within.per_stratum;
  p.tensors["analysis/health/within_variance_explained"] = torch::tensor(within.overall, torch::kFloat64);
  p.tensors["analysis/health/variance_explained"] = torch::tensor(h.variance_explained, torch::kFloat64);
  p.tensors["analysis/health/argmax_share"] = h.argmax_share;
  p.tensors["analysis/health/collapsed"] = torch::tensor(static_cast<std::int64_t>(h.collapsed));
  const auto problem = analysis::readout_problem(h, within.overall, in.gate_training);
  p.attrs["readout"] = problem.empty() ? "informative" : "not informative: " + problem;
  if (!problem.empty()) log::info("analysis of {} strata: Table 2 not informative: {}", job.strata, problem);
}

std::vector<double> as_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

// On a synthetic space: each found stratum's true dimension, and how each dimension readout
// ranks the strata against it (Spearman).
void add_truth(const StrataInputs& in, const torch::Tensor& strata, std::int64_t S, Payload& p) {
  if (!in.truth.defined() || !in.true_dims.defined()) return;
  const auto t = analysis::stratum_truth(strata, S, in.truth, in.true_dims);
  p.tensors["analysis/truth/dim"] = values(t.dim);
  p.tensors["analysis/truth/purity"] = values(t.purity);
  std::map<std::string, torch::Tensor> readouts;
  for (const auto& [name, v] : p.tensors) {
    if (name.rfind("analysis/dims/", 0) == 0) readouts["dims/" + name.substr(14)] = v;
    if (name.rfind("analysis/matched/", 0) == 0) readouts["matched/" + name.substr(17)] = v;
  }
  for (const auto& [name, v] : readouts)
    p.tensors["analysis/truth/spearman/" + name] = torch::tensor(analysis::spearman(as_vector(v), t.dim), torch::kFloat64);
}

// The strata job's attributes, which a run holds too (an attribute cannot be linked).
const std::vector<std::string>& strata_numbers() {
  static const std::vector<std::string> names{"min_stratum", "matched_n"};
  return names;
}

// Table 2 and the gating's statistics by stratum and by domain; a stratum too small for its
// dimensions to be numbers gets none here either.
void add_gating(const analysis::AnalysisSpec& job, const AnalysisInputs& in, const Payload& found, Payload& p) {
  const auto& strata = found.tensor("out/strata");
  const auto gating = in.gating.to(torch::kFloat64);
  const auto sparsity = in.sparsity.to(torch::kFloat64);
  const int Si = static_cast<int>(job.strata), D = static_cast<int>(in.space.domains);
  const auto entropy = analysis::gating_entropy(gating);
  auto ws = analysis::weighted_sparsity_per_group(gating, sparsity, strata, Si);
  ws.masked_fill_(found.tensor("analysis/too_small").to(torch::kBool), kNaN);
  p.tensors["analysis/weighted_sparsity"] = ws;
  p.tensors["analysis/entropy_by_stratum"] = analysis::mean_per_group(entropy, strata, Si);
  p.tensors["analysis/entropy_by_domain"] = analysis::mean_per_group(entropy, in.space.domain, D);
  p.tensors["analysis/entropy_overall"] = entropy.mean();
  p.tensors["analysis/gating_by_stratum"] = analysis::mean_per_group(gating, strata, Si);
  p.tensors["analysis/gating_by_domain"] = analysis::mean_per_group(gating, in.space.domain, D);
  if (const auto it = found.tensors.find("analysis/truth/dim"); it != found.tensors.end())
    p.tensors["analysis/truth/spearman/weighted_sparsity"] =
        torch::tensor(analysis::spearman(as_vector(ws), as_vector(it->second)), torch::kFloat64);
  if (job.bootstrap > 0) add_gating_intervals(job, strata, (gating * sparsity.unsqueeze(0)).sum(1), entropy, p);
}

}  // namespace

Payload run_strata(const analysis::AnalysisSpec& job, const StrataInputs& in) {
  const std::int64_t S = job.strata;
  if (in.X.dim() != 2 || in.X.size(0) == 0) fail_input("analysis: the embedding holds no points");
  if (S > in.X.size(0)) fail_input("analysis: {} strata asked for but only {} points", S, in.X.size(0));
  // Every estimator reads a float64 copy of the points (and k-means one of its features).
  const auto width = std::max(in.X.size(1), in.features.dim() == 2 ? in.features.size(1) : 0);
  check_host_memory(8.0 * static_cast<double>(in.X.size(0)) * static_cast<double>(width), host_memory_bytes(),
                    fmt::format("analysing {} x {} points", in.X.size(0), width), "an embedding of fewer rows");
  const auto strata = strata_of(job, in);
  Payload p;
  p.tensors["out/strata"] = strata;
  add_dimensions(job, in, strata, p);
  crash_point("analysis");
  const int Si = static_cast<int>(S), D = static_cast<int>(in.domains);
  p.tensors["analysis/contingency"] = analysis::contingency(strata, Si, in.domain, D);
  p.tensors["analysis/ari_source"] = torch::tensor(analysis::adjusted_rand_index(strata, in.domain), torch::kFloat64);
  p.tensors["analysis/nmi_source"] =
      torch::tensor(analysis::normalized_mutual_information(strata, in.domain), torch::kFloat64);
  add_truth(in, strata, S, p);
  if (job.bootstrap > 0) add_dimension_intervals(job, in, strata, p);
  return p;
}

std::vector<std::string> strata_paths(const analysis::AnalysisSpec& job, bool truth) {
  std::vector<std::string> out{"out/strata",          "analysis/dims",       "analysis/matched",
                               "analysis/id_vs_n",    "analysis/sizes",      "analysis/too_small",
                               "analysis/contingency", "analysis/ari_source", "analysis/nmi_source"};
  if (truth)
    out.insert(out.end(), {"analysis/truth/dim", "analysis/truth/purity", "analysis/truth/spearman/dims",
                           "analysis/truth/spearman/matched"});
  if (job.bootstrap > 0)
    for (const auto& e : analysis::id_estimators()) out.push_back("analysis/ci/" + e.name);
  return out;
}

Payload run_analysis(const analysis::AnalysisSpec& job, const AnalysisInputs& in, const Payload* strata) {
  if (strata && job.strata_on != "embeddings")
    fail_run("analysis: strata on the {} are the run's own, but it was given a strata job", job.strata_on);
  if (strata && strata->tensor("analysis/sizes").numel() != job.strata)
    fail_run("analysis: its strata job holds {} strata, the run asks for {}", strata->tensor("analysis/sizes").numel(),
             job.strata);
  // Strata on the gating are this run's own: found here, and held with the rest.
  const Payload found = strata ? *strata : run_strata(job, in.space);
  Payload p = strata ? Payload() : found;
  for (const auto& name : strata_numbers())
    if (const auto it = found.numbers.find(name); it != found.numbers.end()) p.numbers[name] = it->second;
  add_gating(job, in, found, p);
  if (in.recon_error.defined()) add_health(job, in, found.tensor("out/strata"), p);
  return p;
}

}  // namespace strata::workers

// The analysis job: strata by k-means, then the paper's tables and what they need to be
// read with confidence (intrinsic dimensions by three estimators, gating-weighted sparsity,
// entropies, gating by stratum and by domain, agreement with the sources, bootstrap CIs).
#include "core/analysis/analysis.h"
#include "core/util/crash_point.h"
#include "core/util/error.h"
#include "workers/jobs.h"

namespace strata::workers {

namespace {

torch::Tensor strata_of(const AnalysisJob& job, const AnalysisInputs& in) {
  torch::Tensor features = job.strata_on == "gating" ? in.gating : in.X;
  features = features.to(torch::kFloat64);
  if (job.strata_on == "embeddings" && job.pca_dim > 0 && job.pca_dim < features.size(1))
    features = analysis::pca_transform(analysis::pca(features, job.pca_dim), features, job.pca_dim);
  const auto km = analysis::kmeans(features, static_cast<int>(job.strata), job.seed,
                                   static_cast<int>(job.kmeans_restarts));
  return analysis::canonical_labels(km.labels, static_cast<int>(job.strata));
}

// Per stratum: [S,3] (estimate, low, high) of `stat` over bootstrap resamples of its points.
torch::Tensor per_stratum_ci(const torch::Tensor& strata, std::int64_t S, std::int64_t resamples, std::uint64_t seed,
                             const std::function<double(const torch::Tensor& rows)>& stat) {
  auto out = torch::full({S, 3}, std::numeric_limits<double>::quiet_NaN(), torch::kFloat64);
  for (std::int64_t s = 0; s < S; ++s) {
    const auto rows = (strata == s).nonzero().flatten();
    if (rows.numel() < 3) continue;
    const auto iv = analysis::bootstrap_ci(
        rows.numel(), [&](const torch::Tensor& idx) { return stat(rows.index_select(0, idx)); },
        static_cast<int>(resamples), seed + static_cast<std::uint64_t>(s));
    out[s][0] = iv.estimate;
    out[s][1] = iv.lo;
    out[s][2] = iv.hi;
  }
  return out;
}

void add_bootstrap(const AnalysisJob& job, const AnalysisInputs& in, const torch::Tensor& strata,
                   const torch::Tensor& ws_per_point, const torch::Tensor& entropy, Payload& p) {
  const std::int64_t S = job.strata, B = job.bootstrap;
  const auto X = in.X.to(torch::kFloat64);
  p.tensors["analysis/ci/weighted_sparsity"] =
      per_stratum_ci(strata, S, B, job.seed, [&](const torch::Tensor& r) { return ws_per_point.index_select(0, r).mean().item<double>(); });
  p.tensors["analysis/ci/entropy"] =
      per_stratum_ci(strata, S, B, job.seed + 101, [&](const torch::Tensor& r) { return entropy.index_select(0, r).mean().item<double>(); });
  p.tensors["analysis/ci/pca"] = per_stratum_ci(strata, S, B, job.seed + 202, [&](const torch::Tensor& r) {
    return static_cast<double>(analysis::pca_dimension(X.index_select(0, r), job.variance_fraction));
  });
  // Resampling with replacement repeats points; the neighbour estimators need distinct ones.
  auto distinct = [&](const torch::Tensor& r) { return X.index_select(0, std::get<0>(torch::_unique(r))); };
  p.tensors["analysis/ci/twonn"] = per_stratum_ci(strata, S, B, job.seed + 303, [&](const torch::Tensor& r) {
    return analysis::twonn_dimension(distinct(r));
  });
  p.tensors["analysis/ci/mle"] = per_stratum_ci(strata, S, B, job.seed + 404, [&](const torch::Tensor& r) {
    return analysis::mle_dimension(distinct(r), static_cast<int>(job.mle_k));
  });
}

}  // namespace

Payload run_analysis(const AnalysisJob& job, const AnalysisInputs& in) {
  const std::int64_t S = job.strata;
  if (S > in.X.size(0)) fail_input("analysis: {} strata asked for but only {} points", S, in.X.size(0));
  const auto strata = strata_of(job, in);
  const auto gating = in.gating.to(torch::kFloat64);
  const auto sparsity = in.sparsity.to(torch::kFloat64);
  Payload p;
  p.tensors["out/strata"] = strata;

  const auto dims = analysis::stratum_dimensions(in.X.to(torch::kFloat64), strata, static_cast<int>(S),
                                                 job.variance_fraction, static_cast<int>(job.mle_k));
  p.tensors["analysis/dims/pca"] = torch::tensor(dims.pca, torch::kFloat64);
  p.tensors["analysis/dims/twonn"] = torch::tensor(dims.twonn, torch::kFloat64);
  p.tensors["analysis/dims/mle"] = torch::tensor(dims.mle, torch::kFloat64);
  p.tensors["analysis/sizes"] = torch::tensor(dims.sizes, torch::kInt64);
  crash_point("analysis");

  const int Si = static_cast<int>(S), D = static_cast<int>(in.domains);
  const auto entropy = analysis::gating_entropy(gating);
  const auto ws_per_point = (gating * sparsity.unsqueeze(0)).sum(1);
  p.tensors["analysis/weighted_sparsity"] = analysis::weighted_sparsity_per_group(gating, sparsity, strata, Si);
  p.tensors["analysis/entropy_by_stratum"] = analysis::mean_per_group(entropy, strata, Si);
  p.tensors["analysis/entropy_by_domain"] = analysis::mean_per_group(entropy, in.domain, D);
  p.tensors["analysis/entropy_overall"] = entropy.mean();
  p.tensors["analysis/gating_by_stratum"] = analysis::mean_per_group(gating, strata, Si);
  p.tensors["analysis/gating_by_domain"] = analysis::mean_per_group(gating, in.domain, D);
  p.tensors["analysis/contingency"] = analysis::contingency(strata, Si, in.domain, D);
  p.tensors["analysis/ari_source"] = torch::tensor(analysis::adjusted_rand_index(strata, in.domain), torch::kFloat64);
  p.tensors["analysis/nmi_source"] =
      torch::tensor(analysis::normalized_mutual_information(strata, in.domain), torch::kFloat64);
  if (job.bootstrap > 0) add_bootstrap(job, in, strata, ws_per_point, entropy, p);
  return p;
}

}  // namespace strata::workers

#include "core/analysis/model_health.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/analysis/gating_statistics.h"
#include "core/util/error.h"

namespace strata::analysis {

ModelHealth model_health(const torch::Tensor& X_in, const torch::Tensor& gating_in, const torch::Tensor& err_in,
                         const torch::Tensor& support_in, const torch::Tensor& sparsity_in, const torch::Tensor& thresholds) {
  const auto X = X_in.to(torch::kCPU, torch::kFloat64);
  const auto gating = gating_in.to(torch::kCPU, torch::kFloat64);
  const auto err = err_in.to(torch::kCPU, torch::kFloat64);
  const auto sparsity = sparsity_in.to(torch::kCPU, torch::kFloat64);
  if (gating.dim() != 2 || gating.size(0) != X.size(0) || err.numel() != X.size(0))
    fail_run("model health: gating [{}] and errors [{}] do not match {} points", gating.numel(), err.numel(), X.size(0));
  const auto E = gating.size(1), N = gating.size(0);
  ModelHealth h;
  const double total = (X - X.mean(0, true)).square().sum().item<double>();
  h.variance_explained = total > 0 ? 1.0 - err.sum().item<double>() / total : std::nan("");
  h.usage = gating.mean(0);
  h.argmax_share = torch::bincount(gating.argmax(1), {}, E).to(torch::kFloat64) / static_cast<double>(N);
  const auto support = support_in.to(torch::kCPU).to(torch::kFloat64);  // [N, E, M]
  h.mean_l0 = support.sum(2).mean(0);
  h.dead_atoms = (support.sum(0) == 0).sum(1).to(torch::kInt64);
  h.densest_argmax_share = h.argmax_share[sparsity.argmax().item<std::int64_t>()].item<double>();
  h.entropy = gating_entropy(gating).mean().item<double>();
  h.entropy_max = std::log(static_cast<double>(E));
  h.negative_thresholds = thresholds.defined() && thresholds.numel() > 0
                              ? (thresholds.to(torch::kCPU) < 0).to(torch::kFloat64).mean().item<double>()
                              : std::numeric_limits<double>::quiet_NaN();
  h.unconstrained_experts = (sparsity >= static_cast<double>(support.size(2))).sum().item<std::int64_t>();
  h.collapsed = h.argmax_share.max().item<double>() > kCollapsedShare;
  return h;
}

WithinStratum within_stratum_variance_explained(const torch::Tensor& X_in, const torch::Tensor& err_in,
                                                const torch::Tensor& strata_in, std::int64_t S) {
  const auto X = X_in.to(torch::kCPU, torch::kFloat64);
  const auto err = err_in.to(torch::kCPU, torch::kFloat64);
  const auto strata = strata_in.to(torch::kCPU, torch::kInt64);
  WithinStratum out;
  out.per_stratum = torch::full({S}, std::numeric_limits<double>::quiet_NaN(), torch::kFloat64);
  double spread_all = 0, err_all = 0;
  for (std::int64_t s = 0; s < S; ++s) {
    const auto in = strata == s;
    if (!in.any().item<bool>()) continue;
    const auto Xs = X.index({in});
    const double spread = (Xs - Xs.mean(0, true)).square().sum().item<double>();
    const double e = err.index({in}).sum().item<double>();
    spread_all += spread;
    err_all += e;
    if (spread > 0) out.per_stratum[s] = 1.0 - e / spread;
  }
  out.overall = spread_all > 0 ? 1.0 - err_all / spread_all : std::numeric_limits<double>::quiet_NaN();
  return out;
}

std::string readout_problem(const ModelHealth& h, double within, const std::string& gate_training) {
  if (gate_training == "untrained")
    return "the gate is untrained (authors-code routing): its weights are a random function of the input";
  if (gate_training == "none") return "the gate is uniform (the ablation): every stratum gets the same weights";
  if (h.collapsed)
    return fmt::format("the gate collapsed: one expert takes {:.0f}% of the points (more than {:.0f}%)",
                       100 * h.argmax_share.max().item<double>(), 100 * kCollapsedShare);
  // Float round-off leaves a model that reconstructs only the means a hair above zero.
  if (!(within > 1e-9))
    return fmt::format("the model explains {:.2f} of the variance within strata (none beyond the strata's means)", within);
  return "";
}

}  // namespace strata::analysis

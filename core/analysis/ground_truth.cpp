#include "core/analysis/ground_truth.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/util/error.h"

namespace strata::analysis {

namespace {

// Ranks 1..n, ties sharing their average rank.
std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto i, auto j) { return v[i] < v[j]; });
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    for (std::size_t k = i; k <= j; ++k) r[order[k]] = (static_cast<double>(i + j) / 2.0) + 1.0;
    i = j + 1;
  }
  return r;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : std::nan("");
}

}  // namespace

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) fail_run("spearman: {} and {} values", a.size(), b.size());
  std::vector<double> x, y;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::isfinite(a[i]) && std::isfinite(b[i])) x.push_back(a[i]), y.push_back(b[i]);
  if (x.size() < 3) return std::nan("");
  return pearson(ranks(x), ranks(y));
}

StratumTruth stratum_truth(const torch::Tensor& strata_in, std::int64_t S, const torch::Tensor& truth_in,
                           const torch::Tensor& true_dims_in) {
  const auto strata = strata_in.to(torch::kCPU, torch::kInt64).contiguous();
  const auto truth = truth_in.to(torch::kCPU, torch::kInt64).contiguous();
  const auto dims = true_dims_in.to(torch::kCPU, torch::kFloat64).contiguous();
  const auto K = dims.numel();
  if (truth.numel() != strata.numel()) fail_run("stratum truth: {} labels for {} points", truth.numel(), strata.numel());
  if (truth.numel() > 0 && (truth.min().item<std::int64_t>() < 0 || truth.max().item<std::int64_t>() >= K))
    fail_run("stratum truth: true labels outside [0, {})", K);
  const auto counts = torch::zeros({S, K}, torch::kInt64);
  counts.view(-1).index_add_(0, strata * K + truth, torch::ones_like(strata));
  StratumTruth out;
  for (std::int64_t s = 0; s < S; ++s) {
    const auto row = counts[s];
    const auto total = row.sum().item<std::int64_t>();
    if (total == 0) {
      out.dim.push_back(std::nan(""));
      out.purity.push_back(std::nan(""));
      continue;
    }
    const auto top = row.argmax().item<std::int64_t>();
    out.dim.push_back(dims[top].item<double>());
    out.purity.push_back(static_cast<double>(row[top].item<std::int64_t>()) / static_cast<double>(total));
  }
  return out;
}

}  // namespace strata::analysis

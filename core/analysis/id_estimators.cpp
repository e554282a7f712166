#include "core/analysis/id_estimators.h"

#include <algorithm>
#include <cmath>

#include "core/analysis/intrinsic_dimension.h"
#include "core/analysis/pca.h"
#include "core/analysis/tensor_support.h"
#include "core/util/error.h"
#include "core/util/log.h"

namespace strata::analysis {

namespace {

std::int64_t two(const AnalysisSpec&) { return 2; }
std::int64_t three(const AnalysisSpec&) { return 3; }
std::int64_t k_plus_one(const AnalysisSpec& a) { return a.mle_k + 1; }

double pca_estimate(const torch::Tensor& X, const AnalysisSpec& a) {
  return X.size(0) >= 2 ? static_cast<double>(pca_dimension(X, a.variance_fraction)) : std::nan("");
}
double twonn_estimate(const torch::Tensor& X, const AnalysisSpec&) { return twonn_dimension(X); }
double mle_estimate(const torch::Tensor& X, const AnalysisSpec& a) { return mle_dimension(X, static_cast<int>(a.mle_k)); }
double mle_lb_estimate(const torch::Tensor& X, const AnalysisSpec& a) {
  return a.mle_k >= 3 ? mle_dimension_levina_bickel(X, static_cast<int>(a.mle_k)) : std::nan("");
}

}  // namespace

const std::vector<IdEstimator>& id_estimators() {
  static const std::vector<IdEstimator> table{
      {"pca", "principal components for variance_fraction of the variance (the paper's Table 1)", two, pca_estimate},
      {"twonn", "TwoNN (Facco et al. 2017), linear fit without the largest 10% of ratios", three, twonn_estimate},
      {"mle", "Levina-Bickel MLE with mle_k neighbours, inverses averaged as MacKay-Ghahramani advise (unbiased)",
       k_plus_one, mle_estimate},
      {"mle_lb", "Levina-Bickel's plain mean of the local MLEs (reads (k-1)/(k-2) high)", k_plus_one, mle_lb_estimate},
  };
  return table;
}

StratumDimensions stratum_dimensions(const torch::Tensor& X_in, const torch::Tensor& strata, int S, const AnalysisSpec& spec) {
  const auto X = detail::cpu_double_matrix(X_in, "stratum dimensions");
  if (S < 1) fail_input("stratum dimensions: the number of strata must be positive, got {}", S);
  const auto labels = detail::cpu_labels(strata, X.size(0), S, "stratum dimensions");
  StratumDimensions out;
  for (int s = 0; s < S; ++s) {
    const auto points = X.index({labels == s});
    out.sizes.push_back(points.size(0));
    std::string undefined;
    for (const auto& e : id_estimators()) {
      const double d = e.estimate(points, spec);
      out.dims[e.name].push_back(d);
      if (std::isnan(d)) undefined += fmt::format("{}{} (needs {})", undefined.empty() ? "" : ", ", e.name, e.min_points(spec));
    }
    if (!undefined.empty())
      log::debug("stratum {} has {} point(s): too few (distinct) for {}; NaN", s, points.size(0), undefined);
  }
  return out;
}

std::map<std::string, std::vector<double>> dimensions_at(const torch::Tensor& X_in, const torch::Tensor& strata, int S,
                                                         const AnalysisSpec& spec, std::int64_t n,
                                                         std::int64_t repeats, std::uint64_t seed) {
  const auto X = detail::cpu_double_matrix(X_in, "size-matched dimensions");
  const auto labels = detail::cpu_labels(strata, X.size(0), S, "size-matched dimensions");
  std::map<std::string, std::vector<double>> out;
  for (const auto& e : id_estimators()) out[e.name].assign(static_cast<std::size_t>(S), std::nan(""));
  for (int s = 0; s < S; ++s) {
    const auto rows = (labels == s).nonzero().flatten();
    if (n < 1 || rows.numel() < n) continue;
    auto gen = detail::seeded_generator(seed + 7919 * static_cast<std::uint64_t>(s));
    std::map<std::string, std::vector<double>> draws;
    for (std::int64_t r = 0; r < repeats; ++r) {
      const auto pick = rows.index_select(0, torch::randperm(rows.numel(), gen, torch::kInt64).narrow(0, 0, n));
      const auto points = X.index_select(0, std::get<0>(pick.sort()));
      for (const auto& e : id_estimators()) draws[e.name].push_back(e.estimate(points, spec));
    }
    for (auto& [name, values] : draws) {
      double sum = 0;
      std::int64_t k = 0;
      for (double v : values)
        if (!std::isnan(v)) sum += v, ++k;
      out[name][static_cast<std::size_t>(s)] = k > 0 ? sum / static_cast<double>(k) : std::nan("");
    }
  }
  return out;
}

std::vector<std::int64_t> curve_sizes(std::int64_t floor, std::int64_t largest) {
  constexpr std::int64_t kMostPoints = 2048;
  constexpr std::size_t kMostSizes = 6;
  std::vector<std::int64_t> out;
  for (std::int64_t n = std::max<std::int64_t>(floor, 2); n <= std::min(largest, kMostPoints) && out.size() < kMostSizes; n *= 2)
    out.push_back(n);
  return out;
}

}  // namespace strata::analysis

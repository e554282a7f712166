#include "core/analysis/intrinsic_dimension.h"

#include <cmath>
#include <limits>

#include "core/analysis/neighbours.h"
#include "core/analysis/pca.h"
#include "core/analysis/tensor_support.h"
#include "core/util/error.h"
#include "core/util/log.h"

namespace strata::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Neighbour distances among the distinct points, keeping only points whose nearest neighbour
// is at a positive distance (exact duplicates are gone; this also catches distances that
// round to zero). Undefined when fewer than k + 1 distinct points exist.
torch::Tensor positive_neighbour_distances(const torch::Tensor& X, std::int64_t k) {
  const auto points = distinct_rows(X);
  if (points.size(0) <= k) return {};
  const auto distances = nearest_neighbour_distances(points, k);
  return distances.index({distances.select(1, 0) > 0});
}

}  // namespace

double twonn_dimension(const torch::Tensor& X_in, double discard_fraction) {
  if (!(discard_fraction >= 0.0 && discard_fraction < 1.0)) {
    fail_input("TwoNN: the discarded fraction must lie in [0, 1), got {}", discard_fraction);
  }
  const auto distances = positive_neighbour_distances(detail::cpu_double_matrix(X_in, "TwoNN"), 2);
  if (!distances.defined() || distances.size(0) < 2) return kNaN;
  const auto n = distances.size(0);
  const auto mu = std::get<0>((distances.select(1, 1) / distances.select(1, 0)).sort());
  // F(μ_(i)) = i/N reaches 1 at the last point, so at least that one is always left out.
  const auto kept = std::min<std::int64_t>(n - 1, static_cast<std::int64_t>(std::floor(n * (1.0 - discard_fraction))));
  if (kept < 1) return kNaN;
  const auto x = mu.narrow(0, 0, kept).log();
  const auto F = torch::arange(1, kept + 1, torch::kFloat64) / static_cast<double>(n);
  const auto y = -torch::log1p(-F);
  const double xx = x.dot(x).item<double>();
  return xx > 0 ? x.dot(y).item<double>() / xx : kNaN;
}

double mle_dimension(const torch::Tensor& X_in, int k) {
  if (k < 2) fail_input("MLE dimension: k must be at least 2, got {}", k);
  const auto T = positive_neighbour_distances(detail::cpu_double_matrix(X_in, "MLE dimension"), k);
  if (!T.defined() || T.size(0) == 0) return kNaN;
  const auto log_T = T.log();
  // Per point: mean over j < k of log(T_k / T_j), i.e. the inverse of the local estimate.
  const auto inverse_local = (log_T.select(1, k - 1).unsqueeze(1) - log_T.narrow(1, 0, k - 1)).mean(1);
  const double mean_inverse = inverse_local.mean().item<double>();
  return mean_inverse > 0 ? 1.0 / mean_inverse : kNaN;
}

StratumDimensions stratum_dimensions(const torch::Tensor& X_in, const torch::Tensor& strata, int S,
                                     double variance_fraction, int mle_k) {
  const auto X = detail::cpu_double_matrix(X_in, "stratum dimensions");
  if (S < 1) fail_input("stratum dimensions: the number of strata must be positive, got {}", S);
  const auto labels = detail::cpu_labels(strata, X.size(0), S, "stratum dimensions");
  StratumDimensions out;
  for (int s = 0; s < S; ++s) {
    const auto points = X.index({labels == s});
    const auto size = points.size(0);
    out.sizes.push_back(size);
    out.pca.push_back(size >= 2 ? static_cast<double>(pca_dimension(points, variance_fraction)) : kNaN);
    out.twonn.push_back(twonn_dimension(points));
    out.mle.push_back(mle_dimension(points, mle_k));
    if (std::isnan(out.pca.back())) log::warn("stratum {} has {} point(s): too few for the PCA dimension (needs 2); NaN", s, size);
    if (std::isnan(out.twonn.back())) log::warn("stratum {} has {} point(s): too few distinct for TwoNN (needs 3); NaN", s, size);
    if (std::isnan(out.mle.back())) {
      log::warn("stratum {} has {} point(s): too few distinct for the MLE dimension with k = {} (needs {}); NaN", s, size,
                mle_k, mle_k + 1);
    }
  }
  return out;
}

}  // namespace strata::analysis

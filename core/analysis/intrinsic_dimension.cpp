#include "core/analysis/intrinsic_dimension.h"

#include <cmath>
#include <limits>

#include "core/analysis/neighbours.h"
#include "core/analysis/tensor_support.h"
#include "core/util/error.h"

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

namespace {

// Per point: Σ_{j<k} log(T_k / T_j) over its k nearest distinct neighbours; undefined (an
// undefined tensor) when fewer than k + 1 distinct points exist.
torch::Tensor log_ratio_sums(const torch::Tensor& X_in, int k) {
  const auto T = positive_neighbour_distances(detail::cpu_double_matrix(X_in, "MLE dimension"), k);
  if (!T.defined() || T.size(0) == 0) return {};
  const auto log_T = T.log();
  return (log_T.select(1, k - 1).unsqueeze(1) - log_T.narrow(1, 0, k - 1)).sum(1);
}

}  // namespace

double mle_dimension(const torch::Tensor& X, int k) {
  if (k < 2) fail_input("MLE dimension: k must be at least 2, got {}", k);
  const auto sums = log_ratio_sums(X, k);
  if (!sums.defined()) return kNaN;
  // The mean of the local estimates' inverses, Σ / (k − 1), inverted.
  const double mean_inverse = sums.mean().item<double>() / static_cast<double>(k - 1);
  return mean_inverse > 0 ? 1.0 / mean_inverse : kNaN;
}

double mle_dimension_levina_bickel(const torch::Tensor& X, int k) {
  if (k < 3) fail_input("MLE dimension (Levina-Bickel mean): k must be at least 3, got {}", k);
  const auto sums = log_ratio_sums(X, k);
  if (!sums.defined()) return kNaN;
  const auto positive = sums > 0;
  if (!positive.any().item<bool>()) return kNaN;
  return (static_cast<double>(k - 1) / sums.index({positive})).mean().item<double>();
}

}  // namespace strata::analysis

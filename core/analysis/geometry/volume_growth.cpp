#include "core/analysis/geometry/volume_growth.h"

#include <algorithm>
#include <limits>

#include "core/analysis/geometry/knn.h"
#include "core/util/error.h"

namespace strata::analysis::geometry {

namespace {

// Least squares of y [m, R] on a basis A [m, R, p], batched: the coefficients [m, p] and RSS [m].
std::pair<torch::Tensor, torch::Tensor> least_squares(const torch::Tensor& A, const torch::Tensor& y) {
  const auto coef = std::get<0>(torch::linalg_lstsq(A, y.unsqueeze(2), c10::nullopt, c10::nullopt)).squeeze(2);
  const auto resid = y - A.matmul(coef.unsqueeze(2)).squeeze(2);
  return {coef, resid.pow(2).sum(1)};
}

}  // namespace

VolumeGrowth fit_volume_curves(const torch::Tensor& x, const torch::Tensor& y, double rise, double f_min) {
  const auto m = x.size(0), R = x.size(1);
  if (R < 7) fail_input("volume growth: {} neighbour ranks are too few for two segments of 3 (k_hi - k_lo >= 6 needed)", R);
  const auto ones = torch::ones_like(x);
  const auto [line, rss1] = least_squares(torch::stack({ones, x}, 2), y);
  auto best = torch::full({m}, std::numeric_limits<double>::infinity(), torch::kFloat64);
  auto small = torch::zeros({m}, torch::kFloat64), large = torch::zeros({m}, torch::kFloat64);
  auto at = torch::zeros({m}, torch::kFloat64);
  // A continuous hinge at grid point b, each segment holding at least 3 radii.
  for (std::int64_t b = 2; b + 3 <= R; ++b) {
    const auto xb = x.select(1, b).unsqueeze(1);
    const auto [coef, rss] = least_squares(torch::stack({ones, (x - xb).clamp_max(0), (x - xb).clamp_min(0)}, 2), y);
    const auto better = rss < best;
    best = torch::where(better, rss, best);
    small = torch::where(better, coef.select(1, 1), small);
    large = torch::where(better, coef.select(1, 2), large);
    at = torch::where(better, xb.squeeze(1).exp(), at);
  }
  // An exact power law leaves both residuals at rounding level: the floor, far below any real
  // scatter, keeps F near 0 there instead of dividing rounding by rounding.
  const auto floor = 1e-20 * (y - y.mean(1, true)).pow(2).sum(1) + 1e-300;
  const auto f = (rss1 - best).clamp_min(0) * static_cast<double>(R - 3) / torch::maximum(best, floor);
  const auto violates = ((large >= rise * small) & (f >= f_min)).to(torch::kInt64);
  return {torch::Tensor(), line.select(1, 1).contiguous(), small, large, at, f, violates};
}

VolumeGrowth volume_growth(const torch::Tensor& X, const torch::Tensor& points, const VolumeOptions& o) {
  const auto k_hi = std::min(o.k_hi, X.size(0) - 1);
  if (o.k_lo < 1 || o.k_lo >= k_hi) fail_input("volume growth: need 1 <= k_lo = {} < k_hi = {}", o.k_lo, k_hi);
  const auto d = knn_of(X, points, k_hi).distances;  // [m, k_hi] ascending
  const auto lo = static_cast<double>(o.k_lo), hi = static_cast<double>(k_hi);
  auto ranks = std::get<0>(torch::_unique(torch::logspace(std::log10(lo), std::log10(hi), o.ranks, 10.0, torch::kFloat64).round().to(torch::kInt64)));
  // Over a narrow range the rounded log grid collapses; evenly spaced ranks then still give 7.
  if (ranks.numel() < 7) ranks = std::get<0>(torch::_unique(torch::linspace(lo, hi, o.ranks, torch::kFloat64).round().to(torch::kInt64)));
  const auto m = d.size(0);
  const auto x = d.index_select(1, ranks - 1).log();
  const auto y = (ranks.to(torch::kFloat64) - 0.5).log().unsqueeze(0).expand({m, ranks.numel()}).contiguous();
  auto out = fit_volume_curves(x, y, o.rise, o.f_min);
  out.points = points.to(torch::kInt64);
  return out;
}

}  // namespace strata::analysis::geometry

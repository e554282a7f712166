#include "core/analysis/geometry/volume_growth.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "core/analysis/geometry/knn.h"
#include "core/util/error.h"

namespace strata::analysis::geometry {

namespace {

// The determinant of 3 x 3 matrices given by their entries [m] each (row-major).
torch::Tensor det3(const std::vector<torch::Tensor>& g) {
  return g[0] * (g[4] * g[8] - g[5] * g[7]) - g[1] * (g[3] * g[8] - g[5] * g[6]) + g[2] * (g[3] * g[7] - g[4] * g[6]);
}

// Least squares of y [m, R] on a basis A [m, R, p] (p = 2 or 3), batched: the coefficients
// [m, p] and RSS [m]. Solved by the normal equations and Cramer's rule in elementwise float64
// arithmetic, so the result does not depend on a LAPACK's threads or memory alignment (the
// archive is the same bit for bit on any CPU run). A rank-deficient fit (a segment whose radii
// are all equal) gets NaN coefficients and an infinite RSS, so it is never the best.
std::pair<torch::Tensor, torch::Tensor> least_squares(const torch::Tensor& A, const torch::Tensor& y) {
  const auto p = A.size(2);
  std::vector<torch::Tensor> G, b;
  for (std::int64_t i = 0; i < p; ++i) {
    b.push_back((A.select(2, i) * y).sum(1));
    for (std::int64_t j = 0; j < p; ++j) G.push_back((A.select(2, i) * A.select(2, j)).sum(1));
  }
  std::vector<torch::Tensor> coef;
  if (p == 2) {
    const auto det = G[0] * G[3] - G[1] * G[2];
    coef = {(b[0] * G[3] - G[1] * b[1]) / det, (G[0] * b[1] - b[0] * G[2]) / det};
  } else {
    const auto det = det3(G);
    for (std::int64_t c = 0; c < 3; ++c) {
      auto Gc = G;
      for (std::int64_t r = 0; r < 3; ++r) Gc[static_cast<std::size_t>(r * 3 + c)] = b[static_cast<std::size_t>(r)];
      coef.push_back(det3(Gc) / det);
    }
  }
  const auto C = torch::stack(coef, 1);
  const auto fitted = (A * C.unsqueeze(1)).sum(2);
  auto rss = (y - fitted).pow(2).sum(1);
  rss = torch::where(torch::isfinite(rss), rss, torch::full_like(rss, std::numeric_limits<double>::infinity()));
  return {C, rss};
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
  return {torch::Tensor(), line.select(1, 1).contiguous(), small, large, at, f, violates, torch::Tensor(), torch::Tensor()};
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
  out.log_r = x.contiguous();
  out.log_n = y[0].contiguous();
  return out;
}

}  // namespace strata::analysis::geometry

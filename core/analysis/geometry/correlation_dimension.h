#pragma once
// The correlation dimension (Grassberger & Procaccia 1983): C(r), the share of pairs closer
// than r, grows as r^d over a scaling range; d is the slope of log C against log r there.
#include <torch/torch.h>

#include <cstdint>
#include <limits>
#include <string>

namespace strata::analysis::geometry {

struct CorrelationIntegral {
  torch::Tensor radii;   // [R] float64, ascending
  torch::Tensor counts;  // [R] int64: ordered pairs (i ≠ j) at distance < r (strictly, as skdim counts)
  std::int64_t points = 0;
};
// Every pair of rows of X (float64, any device), counted in row blocks.
CorrelationIntegral pair_counts(const torch::Tensor& X, const torch::Tensor& radii);

// The scaling range: among radii where the mean point has at least one neighbour closer than
// r and C(r) <= 1/2, the longest run of consecutive grid intervals whose local slopes
// Δ log C / Δ log r differ by at most the ratio 1 + tolerance (at least 3 intervals; ties go to
// the smaller residual). d is the least-squares slope of log C against log r over the run.
struct ScalingFit {
  double dimension = std::numeric_limits<double>::quiet_NaN();
  double r_lo = std::numeric_limits<double>::quiet_NaN(), r_hi = std::numeric_limits<double>::quiet_NaN();
  double residual = std::numeric_limits<double>::quiet_NaN();  // rms of the fit's log C residuals
  std::int64_t lo = -1, hi = -1;                                // grid indices of r_lo and r_hi
  std::string flag;                                             // why there is none ("" when found)
};
ScalingFit scaling_range(const CorrelationIntegral& c, double tolerance);

// R radii, log-spaced from `lo` to `hi`.
torch::Tensor log_radii(double lo, double hi, std::int64_t R);

// The grid from the smallest nearest-neighbour distance to the diameter's bound 2 max‖x − x̄‖,
// the counts and the scaling-range fit. nearest: each point's nearest-neighbour distance.
struct CorrelationDimension {
  CorrelationIntegral integral;
  ScalingFit fit;
};
CorrelationDimension correlation_dimension(const torch::Tensor& X, const torch::Tensor& nearest, std::int64_t R,
                                           double tolerance);

// skdim.id.CorrInt(k1, k2): two radii, the medians of the k1-th and k2-th neighbour distances
// (distances: [n, >= k2], self excluded), d = Δ log C / Δ log r between them.
double corrint_two_radii(const torch::Tensor& X, const torch::Tensor& distances, std::int64_t k1, std::int64_t k2);

}  // namespace strata::analysis::geometry

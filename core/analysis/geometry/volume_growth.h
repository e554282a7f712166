#pragma once
// Volume growth (Robinson, Dey & Sweet, arXiv 2410.08993): around a point of a d-manifold the
// number of points within r grows as r^d, so log N(r) against log r is a line of slope d. Where
// strata of different dimension meet, the slope rises with r (a ball first holds one stratum,
// then both), which no manifold shows; a slope that falls (curvature, the edge of the data) is
// compatible with one. Each point gets a one-segment fit and the best continuous two-segment
// fit, and is flagged when the second segment is steeper and two segments fit markedly better.
// The curve is read at the point's own neighbour distances: at r_j, the j-th neighbour's
// distance, N steps from j − 1 to j, and the step's midpoint j − 1/2 makes log(j − 1/2) against
// log r_j unbiased for the slope (E log r_j tracks ψ(j) ≈ log(j − 1/2)); counts read on a fixed
// grid between r_{k_lo} and r_{k_hi} would be pinned to a step at both ends, which tilts every
// curve upward at small r and downward at large r.
#include <torch/torch.h>

#include <cstdint>

namespace strata::analysis::geometry {

struct VolumeGrowth {
  torch::Tensor points;        // [m] int64: the rows of X fitted
  torch::Tensor slope;         // [m] float64: one-segment slope, the local dimension
  torch::Tensor slope_small;   // [m] float64: two segments, slope below the break
  torch::Tensor slope_large;   // [m] float64: slope above it
  torch::Tensor break_radius;  // [m] float64
  torch::Tensor f;             // [m] float64: (RSS1 − RSS2) / (RSS2 / (R − 3)), a ranking statistic
                               // (the break is searched, and N(r) is cumulative, so it is not F-distributed)
  torch::Tensor violates;      // [m] int64: 1 where slope_large >= rise · slope_small and f >= f_min
  torch::Tensor log_r;         // [m, R] float64: the curves fitted, log r_j of each point ...
  torch::Tensor log_n;         // [R] float64: ... against log(j − 1/2)
};

struct VolumeOptions {
  std::int64_t k_lo = 10, k_hi = 200;  // each point's radii run from its k_lo-th to its k_hi-th neighbour
  std::int64_t ranks = 16;             // neighbour ranks j, log-spaced (repeats after rounding dropped)
  double rise = 2.0, f_min = 10.0;
};

// X: the points (float64, any device); points: int64 CPU rows to fit. k_hi is capped at rows − 1.
VolumeGrowth volume_growth(const torch::Tensor& X, const torch::Tensor& points, const VolumeOptions& o);

// The fits on given curves x, y [m, R] (log r, log N(r)), x ascending along each row.
VolumeGrowth fit_volume_curves(const torch::Tensor& x, const torch::Tensor& y, double rise, double f_min);

}  // namespace strata::analysis::geometry

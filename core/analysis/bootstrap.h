#pragma once
// Uncertainty of a statistic over points: the nonparametric bootstrap with percentile intervals.
#include <torch/torch.h>

#include <cstdint>
#include <functional>

namespace strata::analysis {

struct Interval {
  double estimate;  // the statistic on all points
  double lo, hi;    // percentile interval of the resampled statistics
};

// Calls stat(idx) first on idx = 0..n−1 (the estimate), then on `resamples` int64 CPU index
// vectors of length n drawn uniformly with replacement from a generator seeded with `seed`
// (deterministic, independent of torch's global generator). lo and hi are the (1 − level)/2 and
// (1 + level)/2 quantiles of the resampled values with linear interpolation (numpy's default).
// Resamples where stat returns NaN (e.g. a stratum that drew too few points) are left out; when
// all are NaN the interval is NaN.
Interval bootstrap_ci(std::int64_t n, const std::function<double(const torch::Tensor& idx)>& stat, int resamples,
                      std::uint64_t seed, double level = 0.95);

}  // namespace strata::analysis

#pragma once
// Uncertainty of a statistic over points: the nonparametric bootstrap with percentile intervals,
// and m-out-of-n subsampling without replacement (what the per-stratum intervals use).
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

// m-out-of-n subsampling (Politis & Romano 1994): stat on idx = 0..n−1 (the estimate), then on
// `resamples` subsets of m distinct points (m = ceil(n / 2) when 0), drawn without replacement
// from a generator seeded with `seed`. The interval is the spread of the subsample values about
// their median, scaled to n points by sqrt(m / n) and laid around the estimate:
//   [θ̂ − √(m/n)·(median − q_lo), θ̂ + √(m/n)·(q_hi − median)],
// q_lo, q_hi the (1 ∓ level)/2 quantiles. No point is ever repeated (duplicates shrink PCA counts
// and neighbour distances, so resampling with replacement biases every dimension estimate), and
// the interval holds the estimate by construction: it says how much the estimate varies at this
// n, not how it moves with n (the size-matched dimensions show that). NaN values are left out.
Interval subsample_ci(std::int64_t n, const std::function<double(const torch::Tensor& idx)>& stat, int resamples,
                      std::uint64_t seed, double level = 0.95, std::int64_t m = 0);

}  // namespace strata::analysis

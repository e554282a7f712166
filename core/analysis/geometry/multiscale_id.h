#pragma once
// Intrinsic dimension as a function of scale: Gride (Denti et al. 2022) at neighbour ranks
// n1 = 1, 2, 4, ..., and TwoNN on decimated subsets (Facco et al. 2017), both as DADApy's
// Data.return_id_scaling_gride and Data.return_id_scaling_2NN compute them.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace strata::analysis::geometry {

// TwoNN's linear fit through the origin of −log(1 − i/N) against log μ_(i), the largest
// `discard` fraction of the ratios μ = r2/r1 left out (DADApy's 'base', skdim's 'linear').
// Non-finite ratios (a zero r1) are left out first; NaN for fewer than 3 ratios.
double twonn_linear(const torch::Tensor& mu, double discard = 0.1);

struct GrideScaling {
  torch::Tensor ranks;      // [S] int64: n1 of each scale (the ratio r_{2 n1} / r_{n1})
  torch::Tensor id;         // [S] float64: the Gride maximum-likelihood dimension
  torch::Tensor err;        // [S] float64: its standard error (inverse Fisher information)
  torch::Tensor scale;      // [S] float64: the mean of r_{n1} and r_{2 n1} over points
  torch::Tensor discarded;  // [S] int64: ratios left out: outliers (DADApy's filter) and zero r_n1
};
// From neighbour distances [n, K] (ascending, self excluded): one scale for every n1 = 2^i
// with 2 n1 <= min(max_rank, K). Points with r_n1 = 0 (duplicates) are left out and counted in
// `discarded`.
GrideScaling gride_scaling(const torch::Tensor& distances, std::int64_t max_rank);

// The Gride MLE from ratios μ = r_{n2} / r_{n1} (float64 CPU): DADApy's bisection of the
// likelihood's derivative over [0.001, 1000] to 1e-7, after its outlier filter
// (μ ≥ q50 + 20 (q95 − q50) left out; their count goes to `discarded`).
double gride_mle(const torch::Tensor& mu, std::int64_t n1, std::int64_t n2, std::int64_t* discarded = nullptr);
double gride_error(const torch::Tensor& mu, double d, std::int64_t n1, std::int64_t n2);

// The decimation: subsets of N, N/2, N/4, ... points (rounded half to even), those larger than
// min_size, round(N / size) seeded subsets of each size (one, all points, at N), disjoint
// within a size (runs of one permutation) wherever round(N / size) · size <= N.
struct DecimationPlan {
  std::vector<std::int64_t> sizes;
  std::vector<std::vector<torch::Tensor>> subsets;  // per size: int64 CPU row indices, ascending
};
DecimationPlan decimation_plan(std::int64_t n, std::int64_t min_size, std::uint64_t seed);

struct TwonnScaling {
  torch::Tensor sizes;  // [T] int64: points per subset
  torch::Tensor count;  // [T] int64: subsets of that size
  torch::Tensor id;     // [T] float64: mean TwoNN dimension over the subsets
  torch::Tensor std;    // [T] float64: their standard deviation (ddof 0)
  torch::Tensor err;    // [T] float64: std / sqrt(count), DADApy's error
  torch::Tensor scale;  // [T] float64: mean of r1 and r2 over the subsets' points
};
// X: distinct points (float64, any device). `nearest`, when given, holds the distances [N, >= 2]
// of every point to its nearest others (a kNN already computed): the full set's level reads
// them instead of searching again.
TwonnScaling twonn_scaling(const torch::Tensor& X, const DecimationPlan& plan, const torch::Tensor& nearest = {});

}  // namespace strata::analysis::geometry

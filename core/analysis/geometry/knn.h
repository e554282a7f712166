#pragma once
// What every geometry estimator shares: the distinct points of an embedding, exact k-nearest
// neighbours with their indices, blocked pair distances, seeded subsets and a least-squares line.
// Distances are selected by matrix product on the points' device (fp32 on CUDA, float64 on
// CPU), blocked over rows so memory stays O(block × N); the distances returned are float64.
#include <torch/torch.h>

#include <cstdint>
#include <functional>

namespace strata::analysis::geometry {

// The distinct rows of X in the order of their first occurrence.
struct DistinctPoints {
  torch::Tensor points;         // [n, L] float64 on the device
  torch::Tensor rows;           // [n] int64 CPU: the first row of X equal to each point
  std::int64_t duplicates = 0;  // rows of X dropped as exact copies of an earlier row
};
// Throws InputError for a matrix that is not 2-D or holds NaN or inf.
DistinctPoints distinct_points(const torch::Tensor& X, torch::Device device);

// Elements of one working tensor of a blocked loop on `device`: about 32 MiB of float64 on the
// CPU (cache-sized, and the block shape never changes a CPU result), 1 GiB on CUDA, where small
// blocks leave the device idle between launches.
std::int64_t block_elements(const torch::Device& device);

// The k nearest other points of each query, ascending; a point is never its own neighbour.
struct Knn {
  torch::Tensor distances;  // [q, k] float64 CPU
  torch::Tensor indices;    // [q, k] int64 CPU, rows of X
};
// Every row of X (float64, any device) against all others; needs 1 <= k < rows.
Knn knn(const torch::Tensor& X, std::int64_t k);
// The rows `queries` (int64 CPU) of X against all other rows.
Knn knn_of(const torch::Tensor& X, const torch::Tensor& queries, std::int64_t k);

// Within each subset: subsets [c, s] int64 (rows of X, distinct within a row); distances
// [c, s, k] float64 CPU from every member to its k nearest other members, ascending.
torch::Tensor knn_within(const torch::Tensor& X, const torch::Tensor& subsets, std::int64_t k);

// Calls fn(start, D) for consecutive row blocks: D [rows, N] holds the distances from rows
// start .. start + rows - 1 to every row (the point itself at 0), in the selection dtype, on the device.
void for_each_distance_block(const torch::Tensor& X, const std::function<void(std::int64_t, const torch::Tensor&)>& fn);

// The dense distance matrix [n, n], float64 CPU (for the MST: n up to a few thousand).
torch::Tensor distance_matrix(const torch::Tensor& X);

// A permutation of [0, n) (int64 CPU) drawn by a generator seeded with `seed`.
torch::Tensor seeded_permutation(std::int64_t n, std::uint64_t seed);
// m distinct indices of [0, n), ascending: the first m of seeded_permutation(n, seed), sorted.
torch::Tensor seeded_subset(std::int64_t n, std::int64_t m, std::uint64_t seed);

// y ≈ intercept + slope · x by least squares (float64 CPU vectors); rms is the residuals' root mean square.
struct LineFit {
  double slope = 0, intercept = 0, rms = 0;
};
LineFit fit_line(const torch::Tensor& x, const torch::Tensor& y);

}  // namespace strata::analysis::geometry

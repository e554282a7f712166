#pragma once
// Exact k-nearest-neighbour distances, blocked over rows so that memory stays O(block × N).
#include <torch/torch.h>

#include <cstdint>

namespace strata::analysis {

// Euclidean distances [N, k] from each row of X (float64, CPU) to its k nearest other rows,
// ascending. A point is never its own neighbour; exact duplicates of it are (distance 0).
torch::Tensor nearest_neighbour_distances(const torch::Tensor& X, std::int64_t k);

// The distinct rows of X (exact duplicates removed), in a deterministic (sorted) order.
torch::Tensor distinct_rows(const torch::Tensor& X);

}  // namespace strata::analysis

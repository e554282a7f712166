#pragma once
// Pointwise local intrinsic dimension: every point's own estimate from its k nearest
// neighbours, for several k, and its summary over groups (sources or strata).
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace strata::analysis::geometry {

// Levina–Bickel per point, (k − 1) / Σ_{j<k} log(r_k / r_j), as skdim.id.MLE's pointwise
// estimate (dimension_pw_, its default unbiased=False normalisation). distances: [n, K]
// (ascending, self excluded), K >= max(ks). Returns [n, |ks|] float64; a point whose k
// distances are all equal, or with a zero distance (a duplicate), gets NaN.
torch::Tensor local_mle(const torch::Tensor& distances, const std::vector<std::int64_t>& ks);

// TwoNN (linear fit, largest 10% of ratios left out) on each point's k nearest neighbours,
// the point itself not among them, as skdim.id.TwoNN().fit_pw does. X: the points (float64,
// any device); indices: [n, K] neighbour indices (ascending distance). Returns [n, |ks|]
// float64; NaN where a neighbourhood holds a zero distance (never for distinct points).
torch::Tensor local_twonn(const torch::Tensor& X, const torch::Tensor& indices, const std::vector<std::int64_t>& ks);

// Quartiles over each group's points, NaN values left out: [G, columns] each.
struct GroupQuartiles {
  torch::Tensor q25, median, q75;
};
GroupQuartiles group_quartiles(const torch::Tensor& values, const torch::Tensor& groups, std::int64_t G);

}  // namespace strata::analysis::geometry

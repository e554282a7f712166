#include "core/analysis/geometry/neighbourhood_overlap.h"

#include "core/util/error.h"

namespace strata::analysis::geometry {

torch::Tensor data_overlap(const torch::Tensor& indices_a, const torch::Tensor& indices_b, std::int64_t k) {
  if (indices_a.size(0) != indices_b.size(0) || k < 1 || k > indices_a.size(1) || k > indices_b.size(1))
    fail_input("data overlap: need two [n, >= k] neighbour matrices of the same rows (k = {})", k);
  const auto a = indices_a.narrow(1, 0, k), b = indices_b.narrow(1, 0, k);
  // Neighbour lists hold distinct indices, so counting equal pairs counts the intersection.
  const auto shared = (a.unsqueeze(2) == b.unsqueeze(1)).sum({1, 2});
  return shared.to(torch::kFloat64) / static_cast<double>(k);
}

torch::Tensor label_overlap(const torch::Tensor& indices, const torch::Tensor& labels, std::int64_t k) {
  if (k < 1 || k > indices.size(1) || labels.size(0) != indices.size(0))
    fail_input("label overlap: need [n, >= k] neighbours and n labels (k = {})", k);
  const auto l = labels.to(torch::kCPU, torch::kInt64);
  const auto same = l.index({indices.narrow(1, 0, k)}) == l.unsqueeze(1);
  return same.to(torch::kFloat64).mean(1);
}

double label_balanced_mean(const torch::Tensor& values, const torch::Tensor& labels) {
  const auto [unique, inverse, counts] = torch::_unique2(labels, /*sorted=*/true, /*return_inverse=*/true, /*return_counts=*/true);
  const auto w = 1.0 / counts.index({inverse}).to(torch::kFloat64);
  return ((values * w).sum() / w.sum()).item<double>();
}

}  // namespace strata::analysis::geometry

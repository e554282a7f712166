#include "core/analysis/gating_statistics.h"

#include <fmt/ranges.h>

#include "core/util/error.h"

namespace strata::analysis {

namespace {

void check_gating(const torch::Tensor& gating, const char* what) {
  if (!gating.defined() || gating.dim() != 2) fail_input("{}: gating must be a matrix [points, experts]", what);
}

// Group ids as int64 on `device`, checked to lie in [0, G) for n points.
torch::Tensor checked_groups(const torch::Tensor& group, std::int64_t n, int G, torch::Device device) {
  if (G < 1) fail_input("group means: the number of groups must be positive, got {}", G);
  if (!group.defined() || group.dim() != 1 || group.size(0) != n) {
    fail_input("group means: expected {} group ids in a 1-D tensor, got shape [{}]", n,
               group.defined() ? fmt::format("{}", fmt::join(group.sizes(), ", ")) : std::string());
  }
  if (group.is_floating_point()) fail_input("group means: group ids must be integers");
  auto ids = group.detach().to(device, torch::kInt64);
  if (n > 0 && (ids.min().item<std::int64_t>() < 0 || ids.max().item<std::int64_t>() >= G)) {
    fail_input("group means: group ids must lie in [0, {}), found [{}, {}]", G, ids.min().item<std::int64_t>(),
               ids.max().item<std::int64_t>());
  }
  return ids;
}

}  // namespace

torch::Tensor mean_per_group(const torch::Tensor& values, const torch::Tensor& group, int G) {
  if (!values.defined() || values.dim() < 1) fail_input("group means: values must have a leading point dimension");
  const auto v = values.detach().to(torch::kFloat64);
  const auto ids = checked_groups(group, v.size(0), G, v.device());
  auto shape = v.sizes().vec();
  shape[0] = G;
  const auto sums = torch::zeros(shape, v.options()).index_add_(0, ids, v);
  auto counts_shape = std::vector<std::int64_t>(v.dim(), 1);
  counts_shape[0] = G;
  const auto counts = torch::bincount(ids, {}, G).to(torch::kFloat64).view(counts_shape);
  return sums / counts;  // 0/0 = NaN for an empty group
}

torch::Tensor weighted_sparsity_per_group(const torch::Tensor& gating, const torch::Tensor& sparsity,
                                          const torch::Tensor& group, int G) {
  check_gating(gating, "weighted sparsity");
  if (!sparsity.defined() || sparsity.dim() != 1 || sparsity.size(0) != gating.size(1)) {
    fail_input("weighted sparsity: expected {} sparsity levels (one per expert)", gating.size(1));
  }
  const auto w = gating.detach().to(torch::kFloat64);
  const auto per_point = w.matmul(sparsity.detach().to(w.device(), torch::kFloat64));
  return mean_per_group(per_point, group, G);
}

torch::Tensor gating_entropy(const torch::Tensor& gating) {
  check_gating(gating, "gating entropy");
  const auto w = gating.detach().to(torch::kFloat64);
  return -torch::xlogy(w, w).sum(1);
}

}  // namespace strata::analysis

#include "core/analysis/tensor_support.h"

#include <ATen/CPUGeneratorImpl.h>

#include <fmt/ranges.h>

#include "core/util/error.h"

namespace strata::analysis::detail {

torch::Tensor cpu_double_matrix(const torch::Tensor& X, std::string_view what) {
  if (!X.defined() || X.dim() != 2) {
    fail_input("{}: expected a 2-D matrix [points, features], got {} dimensions", what,
               X.defined() ? X.dim() : 0);
  }
  return X.detach().to(torch::kCPU, torch::kFloat64).contiguous();
}

torch::Tensor cpu_labels(const torch::Tensor& labels, std::int64_t n, std::int64_t count, std::string_view what) {
  if (!labels.defined() || labels.dim() != 1 || labels.size(0) != n) {
    fail_input("{}: expected {} labels in a 1-D tensor, got shape {}", what, n,
               labels.defined() ? fmt::format("{}", fmt::join(labels.sizes(), "x")) : std::string("none"));
  }
  if (labels.is_floating_point() || labels.is_complex()) {
    fail_input("{}: labels must be integers, got {}", what, std::string(c10::toString(labels.scalar_type())));
  }
  auto out = labels.detach().to(torch::kCPU, torch::kInt64).contiguous();
  if (n > 0) {
    const auto lo = out.min().item<std::int64_t>();
    const auto hi = out.max().item<std::int64_t>();
    if (lo < 0 || hi >= count) fail_input("{}: labels must lie in [0, {}), found range [{}, {}]", what, count, lo, hi);
  }
  return out;
}

torch::Generator seeded_generator(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

}  // namespace strata::analysis::detail

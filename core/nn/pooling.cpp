#include "core/nn/pooling.h"

#include <algorithm>

#include <fmt/ranges.h>

#include "core/util/error.h"

namespace strata::nn {

const std::vector<std::string>& pooling_names() {
  static const std::vector<std::string> names{"mean", "last", "cls", "mean-with-padding", "tokens"};
  return names;
}

void check_pooling(const std::string& pooling) {
  const auto& names = pooling_names();
  if (std::find(names.begin(), names.end(), pooling) == names.end())
    fail_input("pooling '{}' is not known ({})", pooling, fmt::join(names, ", "));
}

torch::Tensor pool(const torch::Tensor& hidden, const torch::Tensor& mask, const std::string& pooling) {
  check_pooling(pooling);
  if (pooling == "tokens") fail_run("pooling 'tokens' keeps every token: it pools no rows");
  const torch::Tensor h = hidden.to(torch::kFloat32);
  if (pooling == "cls") return h.select(1, 0);
  if (pooling == "mean-with-padding") return h.mean(1);
  const torch::Tensor m = mask.to(h.device(), torch::kFloat32);
  if (pooling == "mean") {
    const torch::Tensor counts = m.sum(1, /*keepdim=*/true).clamp_min(1.0);
    return (h * m.unsqueeze(-1)).sum(1) / counts;
  }
  // last: right padding puts the last real token at index (real tokens - 1).
  const torch::Tensor last = (m.sum(1).to(torch::kInt64) - 1).clamp_min(0);
  const torch::Tensor index = last.view({-1, 1, 1}).expand({h.size(0), 1, h.size(2)});
  return h.gather(1, index).squeeze(1);
}

torch::Tensor pool_packed(const torch::Tensor& hidden, const torch::Tensor& lengths, const std::string& pooling) {
  check_pooling(pooling);
  if (pooling == "tokens") fail_run("pooling 'tokens' keeps every token: it pools no rows");
  if (pooling == "mean-with-padding") fail_run("pooling 'mean-with-padding' reads padding: packed rows have none");
  const torch::Tensor h = hidden.to(torch::kFloat32);
  // Each row reduced on its own, in a fixed order (no atomics): the same rows on every run.
  if (pooling == "mean") return torch::segment_reduce(h, "mean", lengths);
  const torch::Tensor ends = torch::cumsum(lengths, 0);
  return h.index_select(0, pooling == "cls" ? ends - lengths : ends - 1);
}

}  // namespace strata::nn

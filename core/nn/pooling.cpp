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

namespace {

// Per-row values of the offsets (each row's length, or the index of its first or last token)
// on `device`, copied from pinned memory so that the host does not wait.
torch::Tensor per_row(const std::vector<std::int64_t>& offsets, const std::string& what, torch::Device device) {
  const auto B = static_cast<std::int64_t>(offsets.size()) - 1;
  torch::Tensor host = torch::empty({B}, torch::kInt64);
  auto* v = host.data_ptr<std::int64_t>();
  for (std::int64_t b = 0; b < B; ++b) {
    const std::int64_t start = offsets[static_cast<std::size_t>(b)], end = offsets[static_cast<std::size_t>(b) + 1];
    v[b] = what == "lengths" ? end - start : what == "first" ? start : end - 1;
  }
  if (device.is_cuda()) return host.pin_memory().to(device, /*non_blocking=*/true);
  return host.to(device);
}

}  // namespace

torch::Tensor pool_packed(const torch::Tensor& hidden, const std::vector<std::int64_t>& offsets,
                          const std::string& pooling) {
  check_pooling(pooling);
  if (pooling == "tokens") fail_run("pooling 'tokens' keeps every token: it pools no rows");
  if (pooling == "mean-with-padding") fail_run("pooling 'mean-with-padding' reads padding: packed rows have none");
  if (hidden.dim() != 2 || offsets.size() < 2 || offsets.front() != 0 || offsets.back() != hidden.size(0))
    fail_run("pool_packed: hidden {} and offsets [{}] disagree (0 first, N last)", hidden.sizes().vec(),
             fmt::join(offsets, ", "));
  for (std::size_t b = 0; b + 1 < offsets.size(); ++b)
    if (offsets[b + 1] <= offsets[b]) fail_run("pool_packed: row {} has no tokens", b);
  const torch::Tensor h = hidden.to(torch::kFloat32);
  if (pooling == "mean") {
    // Each row reduced on its own, in a fixed order (no atomics): the same rows on every run. The
    // offsets were checked above; segment_reduce's own check would wait for the device.
    return torch::segment_reduce(h, "mean", per_row(offsets, "lengths", h.device()), {}, {}, 0, /*unsafe=*/true);
  }
  return h.index_select(0, per_row(offsets, pooling == "cls" ? "first" : "last", h.device()));
}

}  // namespace strata::nn

#include "core/analysis/bootstrap.h"

#include <cmath>
#include <limits>
#include <vector>

#include "core/analysis/tensor_support.h"
#include "core/util/error.h"

namespace strata::analysis {

Interval bootstrap_ci(std::int64_t n, const std::function<double(const torch::Tensor& idx)>& stat, int resamples,
                      std::uint64_t seed, double level) {
  if (n < 1) fail_input("bootstrap: needs at least one point, got {}", n);
  if (resamples < 1) fail_input("bootstrap: needs at least one resample, got {}", resamples);
  if (!(level > 0.0 && level < 1.0)) fail_input("bootstrap: the confidence level must lie in (0, 1), got {}", level);
  Interval out{stat(torch::arange(n, torch::kInt64)), 0.0, 0.0};
  auto gen = detail::seeded_generator(seed);
  std::vector<double> values;
  values.reserve(static_cast<std::size_t>(resamples));
  for (int r = 0; r < resamples; ++r) {
    const double v = stat(torch::randint(n, {n}, gen, torch::kInt64));
    if (!std::isnan(v)) values.push_back(v);
  }
  if (values.empty()) {
    out.lo = out.hi = std::numeric_limits<double>::quiet_NaN();
    return out;
  }
  const auto sample = torch::tensor(values, torch::kFloat64);
  const auto q = torch::tensor({(1.0 - level) / 2.0, (1.0 + level) / 2.0}, torch::kFloat64);
  const auto bounds = torch::quantile(sample, q, /*dim=*/std::nullopt, /*keepdim=*/false, "linear");
  out.lo = bounds[0].item<double>();
  out.hi = bounds[1].item<double>();
  return out;
}

}  // namespace strata::analysis

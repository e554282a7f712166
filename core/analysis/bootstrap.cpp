#include "core/analysis/bootstrap.h"

#include <cmath>
#include <limits>
#include <vector>

#include "core/analysis/tensor_support.h"
#include "core/util/error.h"

namespace strata::analysis {

namespace {

void check_arguments(const char* what, std::int64_t n, int resamples, double level) {
  if (n < 1) fail_input("{}: needs at least one point, got {}", what, n);
  if (resamples < 1) fail_input("{}: needs at least one resample, got {}", what, resamples);
  if (!(level > 0.0 && level < 1.0)) fail_input("{}: the confidence level must lie in (0, 1), got {}", what, level);
}

// Quantiles with linear interpolation (numpy's default).
std::vector<double> quantiles(const std::vector<double>& values, const std::vector<double>& at) {
  const auto sample = torch::tensor(values, torch::kFloat64);
  const auto q = torch::quantile(sample, torch::tensor(at, torch::kFloat64), std::nullopt, false, "linear");
  return {q.data_ptr<double>(), q.data_ptr<double>() + q.numel()};
}

}  // namespace

Interval bootstrap_ci(std::int64_t n, const std::function<double(const torch::Tensor& idx)>& stat, int resamples,
                      std::uint64_t seed, double level) {
  check_arguments("bootstrap", n, resamples, level);
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
  const auto b = quantiles(values, {(1.0 - level) / 2.0, (1.0 + level) / 2.0});
  out.lo = b[0];
  out.hi = b[1];
  return out;
}

Interval subsample_ci(std::int64_t n, const std::function<double(const torch::Tensor& idx)>& stat, int resamples,
                      std::uint64_t seed, double level, std::int64_t m) {
  check_arguments("subsampling", n, resamples, level);
  if (m == 0) m = (n + 1) / 2;
  if (m < 1 || m > n) fail_input("subsampling: m = {} must lie in [1, {}]", m, n);
  Interval out{stat(torch::arange(n, torch::kInt64)), 0.0, 0.0};
  auto gen = detail::seeded_generator(seed);
  std::vector<double> values;
  for (int r = 0; r < resamples; ++r) {
    const double v = stat(std::get<0>(torch::randperm(n, gen, torch::kInt64).narrow(0, 0, m).sort()));
    if (!std::isnan(v)) values.push_back(v);
  }
  if (values.empty() || std::isnan(out.estimate)) {
    out.lo = out.hi = std::numeric_limits<double>::quiet_NaN();
    return out;
  }
  const auto q = quantiles(values, {(1.0 - level) / 2.0, 0.5, (1.0 + level) / 2.0});
  const double scale = std::sqrt(static_cast<double>(m) / static_cast<double>(n));
  out.lo = out.estimate - scale * (q[1] - q[0]);
  out.hi = out.estimate + scale * (q[2] - q[1]);
  return out;
}

}  // namespace strata::analysis

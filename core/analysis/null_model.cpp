#include "core/analysis/null_model.h"

#include <cmath>

#include "core/analysis/tensor_support.h"
#include "core/util/error.h"

namespace strata::analysis {

torch::Tensor gaussian_null(const torch::Tensor& X_in, std::int64_t n, std::uint64_t seed) {
  const auto X = detail::cpu_double_matrix(X_in, "Gaussian null model");
  if (X.size(0) < 2) fail_input("Gaussian null model: needs at least 2 points to estimate a covariance, got {}", X.size(0));
  if (n < 0) fail_input("Gaussian null model: the number of points must not be negative, got {}", n);
  const auto mean = X.mean(0);
  const auto svd = torch::linalg_svd(X - mean, /*full_matrices=*/false);
  const auto scale = std::get<1>(svd) / std::sqrt(static_cast<double>(X.size(0) - 1));  // [r]
  const auto& Vt = std::get<2>(svd);                                                     // [r, D]
  auto gen = detail::seeded_generator(seed);
  const auto z = torch::randn({n, scale.size(0)}, gen, torch::kFloat64);
  const auto sample = mean + (z * scale).matmul(Vt);
  return sample.to(X_in.device(), X_in.scalar_type());
}

}  // namespace strata::analysis

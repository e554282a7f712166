#pragma once
// Data generators shared by the analysis tests; every one is seeded explicitly.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cstdint>

namespace strata::analysis::test {

inline torch::Generator generator(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

inline torch::Tensor normal(std::int64_t rows, std::int64_t cols, torch::Generator& gen) {
  return torch::randn({rows, cols}, gen, torch::kFloat64);
}

// A random L × d matrix with orthonormal columns: an isometric embedding of R^d in R^L.
inline torch::Tensor random_isometry(std::int64_t L, std::int64_t d, torch::Generator& gen) {
  return std::get<0>(torch::linalg_qr(normal(L, d, gen)));
}

// Well separated blobs: `per` points around each of `k` centers spaced 30 apart, unit spread.
// Points are interleaved (point i belongs to blob i % k) so that no order carries the answer.
struct Blobs {
  torch::Tensor X;
  torch::Tensor truth;
};
inline Blobs blobs(int k, std::int64_t per, std::int64_t dims, torch::Generator& gen) {
  const auto centers = 30.0 * torch::eye(k, dims, torch::kFloat64);
  const auto truth = torch::arange(k * per, torch::kInt64).remainder(k);
  return {centers.index({truth}) + normal(k * per, dims, gen), truth};
}

}  // namespace strata::analysis::test

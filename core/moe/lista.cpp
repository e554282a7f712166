#include "core/moe/lista.h"

namespace strata::moe {

torch::Tensor soft_threshold(const torch::Tensor& u, const torch::Tensor& theta) {
  return torch::sign(u) * torch::relu(torch::abs(u) - theta);
}

torch::Tensor project_all_experts(const torch::Tensor& x, const torch::Tensor& W) {
  const auto E = W.size(0), M = W.size(1), L = W.size(2);
  // One [B, L] x [L, E*M] product instead of E small ones.
  return torch::matmul(x, W.reshape({E * M, L}).t()).view({x.size(0), E, M}).permute({1, 0, 2});
}

torch::Tensor recur_all_experts(const torch::Tensor& z, const torch::Tensor& S) {
  return torch::bmm(z, S.transpose(1, 2));
}

torch::Tensor lista_encode(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& S,
                           const torch::Tensor& theta, std::int64_t steps) {
  const auto b = project_all_experts(x, W).contiguous();
  const auto th = theta.unsqueeze(1);  // [E, 1, M]
  auto z = soft_threshold(b, th);      // step 1: z_0 = 0, so S z_0 vanishes
  for (std::int64_t k = 1; k < steps; ++k) z = soft_threshold(b + recur_all_experts(z, S), th);
  return z;
}

}  // namespace strata::moe

#include "core/moe/lista.h"

namespace strata::moe {

torch::Tensor soft_threshold(const torch::Tensor& u, const torch::Tensor& theta) {
  return torch::sign(u) * torch::relu(torch::abs(u) - theta);
}

torch::Tensor project_members(const torch::Tensor& x, const torch::Tensor& W) {
  const auto G = W.size(0), E = W.size(1), M = W.size(2), L = W.size(3);
  // Per model one [B, L] x [L, E*M] product instead of E small ones.
  return torch::bmm(x, W.reshape({G, E * M, L}).transpose(1, 2)).view({G, x.size(1), E, M}).permute({0, 2, 1, 3});
}

torch::Tensor recur_members(const torch::Tensor& z, const torch::Tensor& S) {
  const auto G = z.size(0), E = z.size(1), B = z.size(2), M = z.size(3);
  return torch::bmm(z.reshape({G * E, B, M}), S.reshape({G * E, M, M}).transpose(1, 2)).view({G, E, B, M});
}

torch::Tensor lista_encode_members(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& S,
                                   const torch::Tensor& theta, std::int64_t steps) {
  const auto b = project_members(x, W).contiguous();
  const auto th = theta.unsqueeze(2);  // [G, E, 1, M]
  auto z = soft_threshold(b, th);      // step 1: z_0 = 0, so S z_0 vanishes
  for (std::int64_t k = 1; k < steps; ++k) z = soft_threshold(b + recur_members(z, S), th);
  return z;
}

torch::Tensor project_all_experts(const torch::Tensor& x, const torch::Tensor& W) {
  return project_members(x.unsqueeze(0), W.unsqueeze(0)).squeeze(0);
}

torch::Tensor recur_all_experts(const torch::Tensor& z, const torch::Tensor& S) {
  return recur_members(z.unsqueeze(0), S.unsqueeze(0)).squeeze(0);
}

torch::Tensor lista_encode(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& S,
                           const torch::Tensor& theta, std::int64_t steps) {
  return lista_encode_members(x.unsqueeze(0), W.unsqueeze(0), S.unsqueeze(0), theta.unsqueeze(0), steps).squeeze(0);
}

}  // namespace strata::moe

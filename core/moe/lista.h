#pragma once
// LISTA encoders (Gregor & LeCun 2010) for all experts at once: codes are laid out
// [E, B, M] (expert, point, atom) so the recurrence is one batched matrix product per step.
#include <torch/torch.h>

#include <cstdint>

namespace strata::moe {

// Soft threshold h_theta(u) = sign(u) * max(|u| - theta, 0), theta broadcast against u.
torch::Tensor soft_threshold(const torch::Tensor& u, const torch::Tensor& theta);

// W x for every expert: x [B, L], W [E, M, L] -> [E, B, M], as one matrix product.
torch::Tensor project_all_experts(const torch::Tensor& x, const torch::Tensor& W);

// S z for every expert: z [E, B, M], S [E, M, M] -> [E, B, M].
torch::Tensor recur_all_experts(const torch::Tensor& z, const torch::Tensor& S);

// The paper's encoder before top-s: z_0 = 0, z_{k+1} = h_theta(W x + S z_k), `steps` times.
// x [B, L]; W [E, M, L]; S [E, M, M]; theta [E, M]. Returns z_K [E, B, M].
torch::Tensor lista_encode(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& S,
                           const torch::Tensor& theta, std::int64_t steps);

}  // namespace strata::moe

#pragma once
// LISTA encoders (Gregor & LeCun 2010) for all experts of one or several models at once. Codes
// are laid out [G, E, B, M] (model, expert, point, atom) so the recurrence is one batched matrix
// product per step, whatever the number of models trained together; the single-model forms take
// the same arguments without the leading G and run the same arithmetic as a group of one.
#include <torch/torch.h>

#include <cstdint>

namespace strata::moe {

// Soft threshold h_theta(u) = sign(u) * max(|u| - theta, 0), theta broadcast against u.
torch::Tensor soft_threshold(const torch::Tensor& u, const torch::Tensor& theta);

// W x for every expert of every model: x [G, B, L], W [G, E, M, L] -> [G, E, B, M], as one
// batched matrix product over the models.
torch::Tensor project_members(const torch::Tensor& x, const torch::Tensor& W);
// S z for every expert of every model: z [G, E, B, M], S [G, E, M, M] -> [G, E, B, M].
torch::Tensor recur_members(const torch::Tensor& z, const torch::Tensor& S);
// The paper's encoder before top-s: z_0 = 0, z_{k+1} = h_theta(W x + S z_k), `steps` times.
// x [G, B, L]; W [G, E, M, L]; S [G, E, M, M]; theta [G, E, M]. Returns z_K [G, E, B, M].
torch::Tensor lista_encode_members(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& S,
                                   const torch::Tensor& theta, std::int64_t steps);

// One model: x [B, L], W [E, M, L] -> [E, B, M].
torch::Tensor project_all_experts(const torch::Tensor& x, const torch::Tensor& W);
// One model: z [E, B, M], S [E, M, M] -> [E, B, M].
torch::Tensor recur_all_experts(const torch::Tensor& z, const torch::Tensor& S);
// One model: x [B, L]; W [E, M, L]; S [E, M, M]; theta [E, M]. Returns z_K [E, B, M].
torch::Tensor lista_encode(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& S,
                           const torch::Tensor& theta, std::int64_t steps);

}  // namespace strata::moe

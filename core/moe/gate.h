#pragma once
// Gates of the mixture: the paper's attention gate and the uniform ablation.
#include <torch/torch.h>

#include <cstdint>

namespace strata::moe {

// Attention scores of several models at once: x [G, B, L], Wq [G, Q, L], keys [G, E, Q] ->
// sigma [G, B, E]; the one-model form below is a group of one.
torch::Tensor attention_scores_members(const torch::Tensor& x, const torch::Tensor& Wq, const torch::Tensor& keys);

// Attention scores sigma [B, E]: q = W_q x (Wq [Q, L]), sigma_e = q . k_e / sqrt(Q) (keys [E, Q]).
torch::Tensor attention_scores(const torch::Tensor& x, const torch::Tensor& Wq, const torch::Tensor& keys);

// w = softmax(sigma) over experts, [B, E].
torch::Tensor attention_gate(const torch::Tensor& x, const torch::Tensor& Wq, const torch::Tensor& keys);

// w_e = 1/E for every point (the no-gate ablation): x [..., L] -> [..., E] with x's dtype and device.
torch::Tensor uniform_gate(const torch::Tensor& x, std::int64_t experts);

}  // namespace strata::moe

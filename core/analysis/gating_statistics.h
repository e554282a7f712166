#pragma once
// Statistics of the gate's output: weighted sparsity (the paper's Table 2), entropy, and means
// over groups of points (strata or source domains). They run on the tensors' own device, in
// float64; on the CPU the results are bit-reproducible.
#include <torch/torch.h>

namespace strata::analysis {

// Mean over a group of v_i, with v [N, ...] and group int [N] in [0, G): float64 [G, ...].
// An empty group gives NaN.
torch::Tensor mean_per_group(const torch::Tensor& values, const torch::Tensor& group, int G);

// Per group, the mean over its points of Σ_e w_ie s_e, with gating w [N, E] (rows sum to 1) and
// the experts' sparsity levels s [E]: float64 [G].
torch::Tensor weighted_sparsity_per_group(const torch::Tensor& gating, const torch::Tensor& sparsity,
                                          const torch::Tensor& group, int G);

// Entropy −Σ_e w_e ln w_e of each row of gating [N, E] (0 ln 0 = 0): float64 [N], in nats.
torch::Tensor gating_entropy(const torch::Tensor& gating);

}  // namespace strata::analysis

#pragma once
// Fused forms of common encoder steps: one CUDA kernel where the build has them, the plain
// torch expression otherwise (CPU, or a build without a CUDA compiler).
#include <torch/torch.h>

namespace strata::nn {

// silu(gate) * up of x = [gate | up] on its last dimension (Llama / Qwen2 MLPs).
torch::Tensor silu_and_mul(const torch::Tensor& x);

}  // namespace strata::nn

#pragma once
// Pooling of a right-padded batch's last hidden state into one fp32 row per sequence.
#include <torch/torch.h>

#include <string>

namespace strata::nn {

// Fails with InputError listing the known names (see EmbedOptions for their meaning).
void check_pooling(const std::string& pooling);

// hidden [B, T, H] (any float dtype, any device), mask [B, T] bool, right-padded.
// Returns [B, H] fp32 on hidden's device; pooling is done in fp32.
torch::Tensor pool(const torch::Tensor& hidden, const torch::Tensor& mask, const std::string& pooling);

}  // namespace strata::nn

#pragma once
// Pooling of a batch's last hidden state into one fp32 row per sequence, right-padded or packed.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace strata::nn {

// The poolings, in the order the documentation lists them (see EmbedOptions for their meaning).
const std::vector<std::string>& pooling_names();
// Fails with InputError listing the known names.
void check_pooling(const std::string& pooling);

// hidden [B, T, H] (any float dtype, any device), mask [B, T] bool, right-padded.
// Returns [B, H] fp32 on hidden's device; pooling is done in fp32.
torch::Tensor pool(const torch::Tensor& hidden, const torch::Tensor& mask, const std::string& pooling);

// hidden [N, H] (any float dtype, any device) of packed rows: row b is hidden[offsets[b] ..
// offsets[b + 1]) (B + 1 ascending offsets on the host, 0 first, N last, no row empty). The same
// poolings but mean-with-padding, which needs padding. Returns [B, H] fp32 on hidden's device,
// computed without waiting for the device.
torch::Tensor pool_packed(const torch::Tensor& hidden, const std::vector<std::int64_t>& offsets,
                          const std::string& pooling);

}  // namespace strata::nn

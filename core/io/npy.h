#pragma once
// NumPy .npy files (format 1.0–3.0): float32/float16/float64/int64 arrays in C order.
#include <torch/torch.h>

#include <filesystem>

namespace strata::io {

// Reads the whole array. The header is validated against the file: magic, version, dict
// keys, dtype, C order, and shape × itemsize equal to the bytes that follow.
torch::Tensor read_npy(const std::filesystem::path& path);

// Writes a contiguous CPU tensor (float32, float16, float64, int64, int32, uint8).
void write_npy(const std::filesystem::path& path, const torch::Tensor& t);

}  // namespace strata::io

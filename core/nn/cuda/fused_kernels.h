#pragma once
// Host entry points of core/nn/cuda/fused_kernels.cu. Return a cudaError_t code (0: queued).
#include <cuda_runtime_api.h>

namespace strata::nn::cuda {

enum class ElementType { f32, f16, bf16 };

// out [rows, n] contiguous = silu(in[:, :n]) * in[:, n:2n], `in` rows `in_stride` elements apart.
int silu_and_mul(const void* in, void* out, long long rows, long long n, long long in_stride, ElementType type,
                 cudaStream_t stream);

// The device's compute capability as major * 10 + minor (80: Ampere, 90: Hopper).
int compute_capability(int device, int* capability);

const char* error_string(int code);

}  // namespace strata::nn::cuda

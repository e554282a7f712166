// Elementwise kernels the encoders fuse on CUDA, and the device query that picks attention
// kernels. Plain CUDA C++ over raw pointers (no torch headers): core/nn/fused_ops.cpp checks
// shapes, dtypes and devices before calling them.
#include "core/nn/cuda/fused_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace strata::nn::cuda {

namespace {

template <typename T>
__device__ float to_float(T v) { return static_cast<float>(v); }
template <>
__device__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
template <>
__device__ float to_float(__half v) { return __half2float(v); }

template <typename T>
__device__ T from_float(float v) { return static_cast<T>(v); }
template <>
__device__ __nv_bfloat16 from_float(float v) { return __float2bfloat16(v); }
template <>
__device__ __half from_float(float v) { return __float2half(v); }

// out[r, j] = silu(in[r, j]) * in[r, n + j]: one read of each half, one write, fp32 inside.
template <typename T>
__global__ void silu_and_mul_kernel(const T* in, T* out, long long rows, long long n, long long in_stride) {
  const long long total = rows * n;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long r = i / n, j = i - r * n;
    const float g = to_float(in[r * in_stride + j]);
    const float u = to_float(in[r * in_stride + n + j]);
    out[i] = from_float<T>(g / (1.0f + expf(-g)) * u);
  }
}

template <typename T>
int launch(const void* in, void* out, long long rows, long long n, long long in_stride, cudaStream_t stream) {
  constexpr int threads = 256;
  const long long blocks_needed = (rows * n + threads - 1) / threads;
  const int blocks = static_cast<int>(blocks_needed < 65535 * 8 ? blocks_needed : 65535 * 8);
  if (blocks == 0) return 0;
  silu_and_mul_kernel<T><<<blocks, threads, 0, stream>>>(static_cast<const T*>(in), static_cast<T*>(out), rows, n,
                                                          in_stride);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace

int silu_and_mul(const void* in, void* out, long long rows, long long n, long long in_stride, ElementType type,
                 cudaStream_t stream) {
  switch (type) {
    case ElementType::f32: return launch<float>(in, out, rows, n, in_stride, stream);
    case ElementType::f16: return launch<__half>(in, out, rows, n, in_stride, stream);
    case ElementType::bf16: return launch<__nv_bfloat16>(in, out, rows, n, in_stride, stream);
  }
  return static_cast<int>(cudaErrorInvalidValue);
}

int compute_capability(int device, int* capability) {
  int major = 0, minor = 0;
  cudaError_t e = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
  if (e == cudaSuccess) e = cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device);
  *capability = major * 10 + minor;
  return static_cast<int>(e);
}

const char* error_string(int code) { return cudaGetErrorString(static_cast<cudaError_t>(code)); }

}  // namespace strata::nn::cuda

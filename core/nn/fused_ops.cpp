#include "core/nn/fused_ops.h"

#include "core/util/error.h"

#if STRATA_CUDA_KERNELS
#include <c10/cuda/CUDAStream.h>

#include "core/nn/cuda/fused_kernels.h"
#endif

namespace strata::nn {

namespace {

torch::Tensor silu_and_mul_reference(const torch::Tensor& x) {
  const auto halves = x.chunk(2, -1);
  return torch::silu(halves[0]) * halves[1];
}

#if STRATA_CUDA_KERNELS
bool fused_type(torch::ScalarType t, cuda::ElementType* out) {
  switch (t) {
    case torch::kFloat32: *out = cuda::ElementType::f32; return true;
    case torch::kFloat16: *out = cuda::ElementType::f16; return true;
    case torch::kBFloat16: *out = cuda::ElementType::bf16; return true;
    default: return false;
  }
}
#endif

}  // namespace

torch::Tensor silu_and_mul(const torch::Tensor& x) {
#if STRATA_CUDA_KERNELS
  cuda::ElementType type{};
  if (x.is_cuda() && x.size(-1) % 2 == 0 && x.stride(-1) == 1 && fused_type(x.scalar_type(), &type)) {
    const torch::Tensor rows = x.reshape({-1, x.size(-1)});  // a view for the layouts the encoders make
    const std::int64_t n = x.size(-1) / 2;
    std::vector<std::int64_t> shape = x.sizes().vec();
    shape.back() = n;
    torch::Tensor out = torch::empty(shape, x.options());
    const int code = cuda::silu_and_mul(rows.data_ptr(), out.data_ptr(), rows.size(0), n, rows.stride(0), type,
                                        c10::cuda::getCurrentCUDAStream(x.device().index()).stream());
    if (code != 0) fail_run("silu_and_mul: CUDA error {}", cuda::error_string(code));
    return out;
  }
#endif
  return silu_and_mul_reference(x);
}

}  // namespace strata::nn

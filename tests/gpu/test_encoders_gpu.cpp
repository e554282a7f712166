// Encoders on CUDA in bf16 against the same model in fp32 on the CPU: every pooled row must
// point the same way (cosine >= 0.999). Runs only where a CUDA device is present.
#include <torch/torch.h>

#include "core/nn/encoder.h"
#include "core/nn/fused_ops.h"
#include "tests/catch.hpp"
#include "tests/unit/nn/nn_fixtures.h"

namespace {

std::vector<std::vector<std::int32_t>> mixed_rows(std::uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<std::vector<std::int32_t>> rows;
  for (int i = 0; i < 40; ++i) {
    const int n = 3 + static_cast<int>(torch::randint(0, 120, {1}).item<int64_t>());
    const torch::Tensor ids = torch::randint(1, 300, {n}, torch::kInt32);
    rows.emplace_back(ids.data_ptr<std::int32_t>(), ids.data_ptr<std::int32_t>() + n);
  }
  return rows;
}

}  // namespace

TEST_CASE("gpu encoders: bf16 on CUDA agrees with fp32 on the CPU per row") {
  const auto rows = mixed_rows(21);
  const auto bert = strata::test::write_tiny_bert("gpu_bert", 31);
  const auto llama = strata::test::write_tiny_llama("gpu_llama", 32);
  for (const auto& dir : {bert, llama}) {
    auto cpu = strata::nn::load_encoder(dir, "fp32", torch::kCPU);
    auto gpu = strata::nn::load_encoder(dir, "bf16", torch::kCUDA);
    for (const std::string pooling : {"mean", "last", "cls", "mean-with-padding"}) {
      strata::nn::EmbedOptions o;
      o.pooling = pooling;
      o.batch_size = 16;
      const torch::Tensor ref = strata::nn::embed_ids(*cpu, rows, 0, o, torch::kCPU);
      o.dtype = "bf16";
      const torch::Tensor got = strata::nn::embed_ids(*gpu, rows, 0, o, torch::kCUDA);
      REQUIRE(got.device().is_cpu());
      REQUIRE(got.scalar_type() == torch::kFloat32);
      const double worst = torch::cosine_similarity(got, ref, 1).min().item<double>();
      INFO(cpu->architecture() << " " << pooling << ": min cosine " << worst);
      CHECK(worst >= 0.999);
    }
  }
}

TEST_CASE("gpu fused silu_and_mul equals silu(gate) * up in fp32, for strided rows too") {
  torch::manual_seed(3);
  const auto opts = torch::TensorOptions().device(torch::kCUDA);
  const torch::Tensor wide = torch::randn({4, 7, 2 * 96 + 10}, opts.dtype(torch::kBFloat16));
  const torch::Tensor x = wide.narrow(-1, 0, 2 * 96);  // rows 202 elements apart
  const torch::Tensor got = strata::nn::silu_and_mul(x);
  const torch::Tensor xf = x.to(torch::kFloat32);
  const torch::Tensor want = torch::silu(xf.narrow(-1, 0, 96)) * xf.narrow(-1, 96, 96);
  REQUIRE(got.sizes() == torch::IntArrayRef({4, 7, 96}));
  REQUIRE(got.scalar_type() == torch::kBFloat16);
  // One rounding to bf16 at the end: within half a bf16 step (2^-8 relative).
  const double worst = ((got.to(torch::kFloat32) - want).abs() / want.abs().clamp_min(1e-3)).max().item<double>();
  INFO("worst relative difference " << worst);
  CHECK(worst <= 1.0 / 256);
  const torch::Tensor x32 = torch::randn({5, 64}, opts.dtype(torch::kFloat32));
  const torch::Tensor ref32 = torch::silu(x32.narrow(-1, 0, 32)) * x32.narrow(-1, 32, 32);
  CHECK((strata::nn::silu_and_mul(x32) - ref32).abs().max().item<double>() < 1e-6);
}

// Encoders on CUDA in bf16 against the same model in fp32 on the CPU: every pooled row must
// point the same way (cosine >= 0.999). Runs only where a CUDA device is present.
#include <torch/torch.h>

#include "core/nn/encoder.h"
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

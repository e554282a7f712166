// Packed batches on CUDA: in bf16 the flash kernel's variable-length attention against the
// padded path's scaled_dot_product_attention (within bf16 rounding), in fp32 the per-row
// fallback against the padded path (to fp32 rounding). Runs only where a CUDA device is present.
#include <torch/torch.h>

#include "core/nn/encoder.h"
#include "tests/catch.hpp"
#include "tests/unit/nn/nn_fixtures.h"

namespace {

// 40 rows of 3..122 tokens, then one of 2 and six of 1: sorted batches of 4 end in a batch of
// one-token rows only.
std::vector<std::vector<std::int32_t>> varied_rows(std::uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<std::int64_t> lengths;
  for (int i = 0; i < 40; ++i) lengths.push_back(3 + torch::randint(0, 120, {1}).item<std::int64_t>());
  lengths.push_back(2);
  lengths.insert(lengths.end(), 6, 1);
  return strata::test::rows_of_lengths(lengths, seed + 1);
}

// Per row: the smallest cosine and the largest relative distance between a and b.
std::pair<double, double> agreement(const torch::Tensor& a, const torch::Tensor& b) {
  const double cosine = torch::cosine_similarity(a, b, 1).min().item<double>();
  const double relative = ((a - b).norm(2, 1) / b.norm(2, 1).clamp_min(1e-12)).max().item<double>();
  return {cosine, relative};
}

}  // namespace

TEST_CASE("gpu packed: bf16 varlen flash attention agrees with the padded sdpa path, fp32 equals it") {
  const auto rows = varied_rows(51);
  strata::test::TinySizes wide;  // head_dim 64, grouped-query attention 4:2
  wide.hidden = 256;
  wide.intermediate = 512;
  const auto bert = strata::test::write_tiny_bert("gpu_packed_bert", 52);
  const auto gpt2 = strata::test::write_tiny_gpt2("gpu_packed_gpt2", 53);
  const auto llama = strata::test::write_tiny_llama("gpu_packed_llama", 54, wide);
  for (const auto& dir : {bert, gpt2, llama}) {
    for (const std::string dtype : {"bf16", "fp32"}) {
      auto enc = strata::nn::load_encoder(dir, dtype, torch::kCUDA);
      for (const std::string pooling : {"mean", "last", "cls", "tokens"}) {
        strata::nn::EmbedOptions o;
        o.pooling = pooling;
        o.dtype = dtype;
        o.batch_size = 4;
        o.layers = {1, -1};
        strata::nn::EmbedOptions pad = o;
        pad.packed = false;
        const auto got = strata::nn::embed_rows(*enc, rows, 0, o, torch::kCUDA);
        const auto want = strata::nn::embed_rows(*enc, rows, 0, pad, torch::kCUDA);
        // The packed kernels run in a fixed order: a second pass gives the same bits.
        const auto again = strata::nn::embed_rows(*enc, rows, 0, o, torch::kCUDA);
        for (std::size_t k = 0; k < got.layers.size(); ++k) {
          REQUIRE(got.layers[k].sizes() == want.layers[k].sizes());
          const auto [cosine, relative] = agreement(got.layers[k], want.layers[k]);
          INFO(enc->architecture() << " " << dtype << " " << pooling << " layer " << o.layers[k] << ": min cosine "
                                   << cosine << ", max relative distance " << relative);
          if (dtype == "bf16") {
            CHECK(cosine >= 0.999);
            CHECK(relative <= 0.03);
          } else {
            CHECK(relative <= 1e-5);
          }
          CHECK(torch::equal(got.layers[k], again.layers[k]));
        }
      }
    }
  }
}

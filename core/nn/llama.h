#pragma once
// Llama-style decoder (pre-norm with RMSNorm, rotary positions, grouped-query attention, SwiGLU
// feed-forward, final norm). Llama and Qwen2 differ only in what DecoderSpec says.
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "core/nn/encoder.h"
#include "core/nn/layers.h"
#include "core/nn/model_config.h"

namespace strata::nn {

struct DecoderSpec {
  std::string architecture;
  std::int64_t vocab = 0, hidden = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0;
  std::int64_t intermediate = 0, max_positions = 0;
  double rms_eps = 1e-6;
  std::string act = "silu";
  bool qkv_bias = false, o_bias = false, mlp_bias = false;
  RopeSpec rope;
};

// The fields Llama and Qwen2 configs share (sizes, norm epsilon, activation, rope).
DecoderSpec read_decoder_spec(const ModelConfig& cfg, const std::string& architecture);
// RoPE from `rope_parameters` (transformers 5) or `rope_scaling` + `rope_theta` (older files).
RopeSpec read_rope_spec(const ModelConfig& cfg);

std::unique_ptr<Encoder> make_decoder(const DecoderSpec& spec, const ModelConfig& cfg,
                                      const std::filesystem::path& dir, torch::ScalarType dtype,
                                      torch::Device device);

}  // namespace strata::nn

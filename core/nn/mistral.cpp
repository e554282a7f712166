// Mistral: the Llama decoder without biases, whose attention may be limited to a sliding window
// of the last `sliding_window` tokens. Texts are truncated to that window (the encoder's
// max_positions), so every token attends to all that came before it, as a windowed model does
// within its window: the embeddings are exact, never a full-attention approximation.
#include <algorithm>

#include "core/nn/architectures.h"
#include "core/nn/llama.h"

namespace strata::nn {

std::unique_ptr<Encoder> make_mistral(const ModelConfig& cfg, const std::filesystem::path& dir,
                                      torch::ScalarType dtype, torch::Device device) {
  DecoderSpec s = read_decoder_spec(cfg, "mistral");
  s.qkv_bias = s.o_bias = s.mlp_bias = false;
  if (cfg.has("sliding_window")) s.max_positions = std::min(s.max_positions, cfg.integer("sliding_window"));
  return make_decoder(s, cfg, dir, dtype, device);
}

}  // namespace strata::nn

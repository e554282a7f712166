// Qwen2 (also DeepSeek-R1-Distill-Qwen): the Llama decoder with biases on the query, key and
// value projections and its own rope theta. Sliding-window attention is not implemented.
#include "core/nn/architectures.h"
#include "core/nn/llama.h"
#include "core/util/error.h"

namespace strata::nn {

std::unique_ptr<Encoder> make_qwen2(const ModelConfig& cfg, const std::filesystem::path& dir,
                                    torch::ScalarType dtype, torch::Device device) {
  if (cfg.boolean("use_sliding_window", false))
    fail_input("{} = true: sliding-window attention is not supported", cfg.where("use_sliding_window"));
  if (cfg.has("layer_types"))
    for (const auto& t : cfg.json()["layer_types"])
      if (t != "full_attention")
        fail_input("{}: layer type {} is not supported (only full_attention)", cfg.where("layer_types"), t.dump());
  DecoderSpec s = read_decoder_spec(cfg, "qwen2");
  s.qkv_bias = true;
  s.o_bias = false;
  s.mlp_bias = false;
  return make_decoder(s, cfg, dir, dtype, device);
}

}  // namespace strata::nn

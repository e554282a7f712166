// config.json: parsed, then every key the architectures read asked for in every type.
#include "core/nn/model_config.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const strata::fuzz::InputFile in(data, size, "config.json");
  return strata::fuzz::refuse_or_accept([&] {
    const strata::nn::ModelConfig cfg(in.dir());
    for (const char* key : {"model_type", "vocab_size", "hidden_size", "num_attention_heads", "layer_norm_eps",
                            "hidden_act", "rope_scaling", "tie_word_embeddings"}) {
      try { (void)cfg.integer(key, 0); } catch (const strata::InputError&) {}
      try { (void)cfg.number(key, 0.0); } catch (const strata::InputError&) {}
      try { (void)cfg.boolean(key, false); } catch (const strata::InputError&) {}
      try { (void)cfg.string(key, ""); } catch (const strata::InputError&) {}
    }
  });
}

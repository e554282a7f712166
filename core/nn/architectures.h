#pragma once
// One factory per architecture (one file each), and the table load_encoder picks from by
// config.json's model_type. A new architecture is its file and one row of the table.
#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/nn/encoder.h"
#include "core/nn/model_config.h"

namespace strata::nn {

// The signature of every architecture's factory (each defined in its own file: bert.cpp, ...).
using EncoderMaker = std::unique_ptr<Encoder>(const ModelConfig& cfg, const std::filesystem::path& dir,
                                              torch::ScalarType dtype, torch::Device device);
EncoderMaker make_bert, make_roberta, make_gpt2, make_llama, make_mistral, make_qwen2;

using EncoderFactory = EncoderMaker*;
struct Architecture {
  std::string model_type;  // config.json's model_type
  EncoderFactory make;
};
// Every supported architecture (encoder.cpp).
const std::vector<Architecture>& architectures();
std::vector<std::string> known_architectures();

}  // namespace strata::nn

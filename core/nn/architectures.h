#pragma once
// One factory per architecture; load_encoder picks one from config.json's model_type.
#include <torch/torch.h>

#include <filesystem>
#include <memory>

#include "core/nn/encoder.h"
#include "core/nn/model_config.h"

namespace strata::nn {

std::unique_ptr<Encoder> make_bert(const ModelConfig& cfg, const std::filesystem::path& dir,
                                   torch::ScalarType dtype, torch::Device device);
std::unique_ptr<Encoder> make_roberta(const ModelConfig& cfg, const std::filesystem::path& dir,
                                      torch::ScalarType dtype, torch::Device device);
std::unique_ptr<Encoder> make_gpt2(const ModelConfig& cfg, const std::filesystem::path& dir,
                                   torch::ScalarType dtype, torch::Device device);
std::unique_ptr<Encoder> make_llama(const ModelConfig& cfg, const std::filesystem::path& dir,
                                    torch::ScalarType dtype, torch::Device device);
std::unique_ptr<Encoder> make_qwen2(const ModelConfig& cfg, const std::filesystem::path& dir,
                                    torch::ScalarType dtype, torch::Device device);

}  // namespace strata::nn

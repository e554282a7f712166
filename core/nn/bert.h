#pragma once
// BERT-family encoder (post-norm transformer with learned absolute positions). RoBERTa is the
// same network with a different rule for position ids, passed in by roberta.cpp.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/nn/encoder.h"
#include "core/nn/layers.h"
#include "core/nn/model_config.h"
#include "core/nn/weights.h"

namespace strata::nn {

// Position ids for a prepared batch: [B, T] or [1, T] padded, [1, N] packed.
using PositionRule = std::function<torch::Tensor(const Batch&)>;

class BertEncoder : public Encoder {
 public:
  // max_positions: the longest row the position rule keeps inside the position table.
  BertEncoder(const ModelConfig& cfg, const Weights& w, std::string architecture,
              PositionRule positions, std::int64_t max_positions);

  void forward_layers(const torch::Tensor& ids, const torch::Tensor& mask, const std::vector<std::int64_t>& layers,
                      const LayerSink& sink) override;
  void forward_packed_layers(const PackedRows& rows, const std::vector<std::int64_t>& layers,
                             const LayerSink& sink) override;
  std::int64_t num_layers() const override { return static_cast<std::int64_t>(layers_.size()); }
  std::int64_t hidden_size() const override { return hidden_; }
  std::string architecture() const override { return architecture_; }
  std::int64_t max_positions() const override { return max_positions_; }

 private:
  struct Layer {
    Linear qkv;  // query, key and value stacked: one matmul
    Linear attn_out;
    LayerNorm attn_norm;
    Linear intermediate, output;
    LayerNorm out_norm;
  };
  // Both layouts: every step but attention is the same code.
  void run(const Batch& b, const std::vector<std::int64_t>& layers, const LayerSink& sink) const;
  torch::Tensor layer_forward(const Layer& l, const torch::Tensor& h, const Batch& b, const torch::Tensor& mask) const;

  std::string architecture_;
  std::string config_path_;
  std::int64_t hidden_, heads_, head_dim_, max_positions_;
  PositionRule positions_;
  Activation act_;
  torch::Device device_;
  torch::Tensor word_emb_, pos_emb_, type_row0_;
  LayerNorm emb_norm_;
  std::vector<Layer> layers_;
};

}  // namespace strata::nn

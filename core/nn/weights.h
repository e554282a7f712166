#pragma once
// The weights of one model, loaded by their names relative to the base model class.
//
// save_pretrained writes the same tensors under different prefixes depending on the class that
// was saved: none for BertModel / LlamaModel / GPT2Model, `bert.` / `roberta.` for masked-LM
// heads, `model.` for causal-LM heads, `transformer.` for GPT2LMHeadModel. The prefix is found
// once from an anchor tensor every checkpoint of the architecture holds; head-only tensors
// (lm_head, cls, pooler) are simply never read.
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/io/safetensors.h"
#include "core/nn/layers.h"

namespace strata::nn {

class Weights {
 public:
  // anchor: e.g. "embeddings.word_embeddings.weight" for BERT.
  Weights(const std::filesystem::path& snapshot_dir, const std::string& anchor, torch::ScalarType dtype,
          torch::Device device);

  const std::string& prefix() const { return prefix_; }
  torch::ScalarType dtype() const { return dtype_; }
  torch::Device device() const { return device_; }

  bool has(const std::string& name) const { return store_.contains(prefix_ + name); }
  // Loads prefix + name in the model dtype on the model device; its shape must be `shape`.
  torch::Tensor get(const std::string& name, const std::vector<std::int64_t>& shape) const;

  // name.weight [out, in] and, when `bias`, name.bias [out].
  Linear linear(const std::string& name, std::int64_t out, std::int64_t in, bool bias) const;
  // Several linear maps of the same input stacked into one (one matmul instead of several):
  // output rows in the order of `names`.
  Linear fused_linear(const std::vector<std::string>& names, const std::vector<std::int64_t>& outs,
                      std::int64_t in, bool bias) const;
  // GPT-2's Conv1D keeps its weight as [in, out]; stored here transposed to [out, in].
  Linear conv1d(const std::string& name, std::int64_t in, std::int64_t out) const;
  // name.weight / name.bias, or the older name.gamma / name.beta.
  LayerNorm layer_norm(const std::string& name, std::int64_t size, double eps) const;
  RmsNorm rms_norm(const std::string& name, std::int64_t size, double eps) const;

 private:
  std::string resolve(const std::string& name) const;  // prefix + name, or fails naming it

  io::SafetensorsStore store_;
  std::string prefix_;
  torch::ScalarType dtype_;
  torch::Device device_;
};

}  // namespace strata::nn

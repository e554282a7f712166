#pragma once
// Building blocks shared by the architectures: linear maps, norms, activations, rotary
// position embeddings and attention. Each computes what the matching Hugging Face module
// computes, in the same dtype and with the same accumulation choices.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/nn/encoder.h"

namespace strata::nn {

struct Linear {
  torch::Tensor weight;  // [out, in]
  torch::Tensor bias;    // [out] or undefined
  torch::Tensor operator()(const torch::Tensor& x) const { return torch::linear(x, weight, bias); }
  // residual + this(x), the sum taken inside the matrix product where there is no bias
  // (one pass over the activations fewer).
  torch::Tensor add_to(const torch::Tensor& residual, const torch::Tensor& x) const {
    if (bias.defined()) return residual + torch::linear(x, weight, bias);
    return torch::addmm(residual.reshape({-1, weight.size(0)}), x.reshape({-1, weight.size(1)}), weight.t())
        .view(residual.sizes());
  }
};

struct LayerNorm {
  torch::Tensor weight, bias;
  double eps = 1e-5;
  torch::Tensor operator()(const torch::Tensor& x) const {
    return torch::layer_norm(x, {weight.size(0)}, weight, bias, eps);
  }
};

// Llama-style RMS norm: the mean square is taken in fp32, the product with the weight in the
// model's dtype.
struct RmsNorm {
  torch::Tensor weight;
  double eps = 1e-6;
  torch::Tensor operator()(const torch::Tensor& x) const;
};

using Activation = std::function<torch::Tensor(const torch::Tensor&)>;
// Hugging Face activation names: gelu, gelu_new / gelu_pytorch_tanh / gelu_fast, relu,
// silu / swish, quick_gelu. `where` names the config file and key for the error message.
Activation activation(const std::string& name, const std::string& where);

// Rotary position embeddings (rotate-half layout, as Llama / Qwen2).
struct RopeSpec {
  std::string type = "default";  // default | linear | llama3
  double theta = 10000.0;
  double factor = 1.0;             // linear, llama3
  double low_freq_factor = 1.0;    // llama3
  double high_freq_factor = 4.0;   // llama3
  double original_max_positions = 8192;  // llama3
};

class Rope {
 public:
  Rope() = default;
  Rope(const RopeSpec& spec, std::int64_t head_dim, torch::Device device);
  // cos and signed sin tables [1, 1, L, head_dim] in `dtype` for positions [1, L] (int64, on the
  // model's device; the sin table's first half negated, for apply()).
  std::pair<torch::Tensor, torch::Tensor> tables(const torch::Tensor& positions, torch::ScalarType dtype) const;
  // x [B, heads, T, head_dim]: x * cos + rotate_half(x) * sin.
  static torch::Tensor apply(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& signed_sin);

 private:
  torch::Tensor inv_freq_;  // [head_dim / 2] fp32
};

// The key-padding mask [B, 1, 1, T] (true = attend) of a right-padded bool mask [B, T], or an
// undefined tensor when no row has padding (`padded` false: attention then needs no mask).
// `padded` comes from the caller so that no device-to-host sync is needed here.
torch::Tensor padding_mask(const torch::Tensor& mask, bool padded);
// Causal and key-padding mask combined, [B, 1, T, T]; undefined when no row has padding
// (attention then takes its causal path).
torch::Tensor causal_padding_mask(const torch::Tensor& mask, bool padded);

// The batch as the model runs it, on the model's device, in one of the two layouts of
// encoder.h. Hidden states are [B, T, H] padded and [1, N, H] packed, so that every step but
// attention runs the same code on both.
struct Batch {
  torch::Tensor ids;        // int64: [B, T] padded, [1, N] packed
  torch::Tensor positions;  // int64, each token's index in its row: [1, T] (the columns) or [1, N]
  torch::Tensor mask;       // padded: [B, T] bool; packed: undefined
  bool padded = false;      // padded, and some row has padding (read on the host: no device sync)
  // Packed only: row b is tokens offsets[b] .. offsets[b + 1] - 1, also on the device as int32
  // (the flash kernel's cumulative lengths), and the longest row.
  std::vector<std::int64_t> offsets;
  torch::Tensor cu_seqlens;
  std::int64_t longest = 0;
  bool packed() const { return cu_seqlens.defined(); }
};
// Rows longer than the model's max_positions are refused (InputError naming `config`, its config file).
Batch prepare_batch(const torch::Tensor& ids, const torch::Tensor& mask, torch::Device device,
                    std::int64_t max_positions, const std::string& config);
Batch prepare_packed(const PackedRows& rows, torch::Device device, std::int64_t max_positions,
                     const std::string& config);

// Hands an architecture's hidden states to a forward_layers sink: only the layers asked for,
// and the blocks to compute end at the highest of them. Packed states go out as [N, H].
class LayerTaps {
 public:
  LayerTaps(const std::vector<std::int64_t>& layers, std::int64_t num_layers, const LayerSink& sink, bool packed);
  std::int64_t blocks() const { return blocks_; }  // blocks to run
  bool wants(std::int64_t layer) const;
  void offer(std::int64_t layer, const torch::Tensor& hidden) const {
    if (wants(layer)) sink_(layer, packed_ ? hidden.squeeze(0) : hidden);
  }

 private:
  const std::vector<std::int64_t>& layers_;
  const LayerSink& sink_;
  bool packed_;
  std::int64_t blocks_ = 0;
};

struct AttentionShape {
  std::int64_t heads = 0;
  std::int64_t kv_heads = 0;  // < heads: grouped-query attention
  std::int64_t head_dim = 0;
  double scale = 0.0;         // multiplies q·k
  bool causal = false;
};

// q [B, heads, T, d], k and v [B, kv_heads, T, d] (B = 1, T = N for a packed batch); mask as
// built above for a padded batch (or undefined). A packed batch's rows attend within themselves.
// Returns [B, T, heads * d].
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const Batch& batch,
                        const torch::Tensor& mask, const AttentionShape& shape);

// [B, T, heads * d] -> [B, heads, T, d] (a view where the layout allows).
torch::Tensor split_heads(const torch::Tensor& x, std::int64_t heads, std::int64_t head_dim);

}  // namespace strata::nn

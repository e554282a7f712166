// GPT-2: pre-norm decoder with learned absolute positions and a final layer norm. Its
// checkpoints store every projection as a Conv1D, weight [in, out]; they are transposed once at
// load. The attention projection c_attn already holds query, key and value stacked.
#include <cmath>

#include "core/nn/architectures.h"
#include "core/nn/layers.h"
#include "core/nn/weights.h"
#include "core/util/error.h"

namespace strata::nn {

namespace {

class Gpt2Encoder : public Encoder {
 public:
  Gpt2Encoder(const ModelConfig& cfg, const Weights& w);

  void forward_layers(const torch::Tensor& ids, const torch::Tensor& mask, const std::vector<std::int64_t>& layers,
                      const LayerSink& sink) override;
  void forward_packed_layers(const PackedRows& rows, const std::vector<std::int64_t>& layers,
                             const LayerSink& sink) override;
  std::int64_t num_layers() const override { return static_cast<std::int64_t>(layers_.size()); }
  std::int64_t hidden_size() const override { return hidden_; }
  std::string architecture() const override { return "gpt2"; }
  std::int64_t max_positions() const override { return pos_emb_.size(0); }

 private:
  struct Layer {
    LayerNorm ln1;
    Linear c_attn, attn_proj;
    LayerNorm ln2;
    Linear c_fc, mlp_proj;
    double scale;
  };
  // Both layouts: every step but attention is the same code.
  void run(const Batch& b, const std::vector<std::int64_t>& layers, const LayerSink& sink) const;

  std::string config_path_;
  std::int64_t hidden_, heads_, head_dim_;
  Activation act_;
  torch::Device device_;
  torch::Tensor word_emb_, pos_emb_;
  std::vector<Layer> layers_;
  LayerNorm final_norm_;
};

Gpt2Encoder::Gpt2Encoder(const ModelConfig& cfg, const Weights& w)
    : config_path_(cfg.path().string()),
      hidden_(cfg.integer("n_embd")),
      heads_(cfg.integer("n_head")),
      head_dim_(0),
      act_(activation(cfg.string("activation_function", "gelu_new"), cfg.where("activation_function"))),
      device_(w.device()) {
  if (heads_ <= 0 || hidden_ % heads_ != 0)
    fail_input("{}: n_embd {} is not a multiple of n_head {}", config_path_, hidden_, heads_);
  if (cfg.boolean("add_cross_attention", false))
    fail_input("{} = true is not supported", cfg.where("add_cross_attention"));
  head_dim_ = hidden_ / heads_;
  const std::int64_t H = hidden_;
  const std::int64_t inner = cfg.integer("n_inner", 4 * H);
  const double eps = cfg.number("layer_norm_epsilon", 1e-5);
  const bool scale_weights = cfg.boolean("scale_attn_weights", true);
  const bool by_layer = cfg.boolean("scale_attn_by_inverse_layer_idx", false);

  word_emb_ = w.get("wte.weight", {cfg.integer("vocab_size"), H});
  pos_emb_ = w.get("wpe.weight", {cfg.integer("n_positions"), H});
  const std::int64_t n_layers = cfg.integer("n_layer");
  for (std::int64_t i = 0; i < n_layers; ++i) {
    const std::string p = "h." + std::to_string(i) + ".";
    double scale = scale_weights ? std::pow(static_cast<double>(head_dim_), -0.5) : 1.0;
    if (by_layer) scale /= static_cast<double>(i + 1);
    layers_.push_back(Layer{
        w.layer_norm(p + "ln_1", H, eps),
        w.conv1d(p + "attn.c_attn", H, 3 * H),
        w.conv1d(p + "attn.c_proj", H, H),
        w.layer_norm(p + "ln_2", H, eps),
        w.conv1d(p + "mlp.c_fc", H, inner),
        w.conv1d(p + "mlp.c_proj", inner, H),
        scale,
    });
  }
  final_norm_ = w.layer_norm("ln_f", H, eps);
}

void Gpt2Encoder::run(const Batch& b, const std::vector<std::int64_t>& layers, const LayerSink& sink) const {
  const LayerTaps taps(layers, num_layers(), sink, b.packed());
  torch::Tensor h = torch::embedding(word_emb_, b.ids) + torch::embedding(pos_emb_, b.positions);
  const torch::Tensor attn_mask = causal_padding_mask(b.mask, causal_needs_mask(b.padded));
  taps.offer(0, h);
  const std::int64_t n = num_layers();
  for (std::int64_t i = 0; i < taps.blocks(); ++i) {
    const auto& l = layers_[static_cast<std::size_t>(i)];
    const std::vector<torch::Tensor> qkv = l.c_attn(l.ln1(h)).split(hidden_, -1);
    const AttentionShape shape{heads_, heads_, head_dim_, l.scale, true};
    const torch::Tensor a = attention(split_heads(qkv[0], heads_, head_dim_), split_heads(qkv[1], heads_, head_dim_),
                                      split_heads(qkv[2], heads_, head_dim_), b, attn_mask, shape);
    h = l.attn_proj(a) + h;
    h = l.mlp_proj(act_(l.c_fc(l.ln2(h)))) + h;
    if (i + 1 < n) taps.offer(i + 1, h);  // the last block's output is offered normed
  }
  if (taps.wants(n)) taps.offer(n, final_norm_(h));
}

void Gpt2Encoder::forward_layers(const torch::Tensor& ids, const torch::Tensor& mask,
                                 const std::vector<std::int64_t>& layers, const LayerSink& sink) {
  c10::InferenceMode guard;
  run(prepare_batch(ids, mask, device_, max_positions(), config_path_), layers, sink);
}

void Gpt2Encoder::forward_packed_layers(const PackedRows& rows, const std::vector<std::int64_t>& layers,
                                        const LayerSink& sink) {
  c10::InferenceMode guard;
  run(prepare_packed(rows, device_, max_positions(), config_path_), layers, sink);
}

}  // namespace

std::unique_ptr<Encoder> make_gpt2(const ModelConfig& cfg, const std::filesystem::path& dir,
                                   torch::ScalarType dtype, torch::Device device) {
  const Weights w(dir, "wte.weight", dtype, device);
  return std::make_unique<Gpt2Encoder>(cfg, w);
}

}  // namespace strata::nn

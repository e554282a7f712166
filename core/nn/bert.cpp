#include "core/nn/bert.h"

#include <cmath>

#include "core/nn/architectures.h"
#include "core/util/error.h"

namespace strata::nn {

BertEncoder::BertEncoder(const ModelConfig& cfg, const Weights& w, std::string architecture,
                         PositionRule positions, std::int64_t max_positions)
    : architecture_(std::move(architecture)),
      config_path_(cfg.path().string()),
      hidden_(cfg.integer("hidden_size")),
      heads_(cfg.integer("num_attention_heads")),
      head_dim_(0),
      max_positions_(max_positions),
      positions_(std::move(positions)),
      act_(activation(cfg.string("hidden_act", "gelu"), cfg.where("hidden_act"))),
      device_(w.device()) {
  if (cfg.string("position_embedding_type", "absolute") != "absolute")
    fail_input("{} = '{}' is not supported (only absolute positions)",
               cfg.where("position_embedding_type"), cfg.string("position_embedding_type"));
  if (heads_ <= 0 || hidden_ % heads_ != 0)
    fail_input("{}: hidden_size {} is not a multiple of num_attention_heads {}", config_path_, hidden_, heads_);
  head_dim_ = hidden_ / heads_;
  const std::int64_t H = hidden_;
  const std::int64_t inter = cfg.integer("intermediate_size");
  const double eps = cfg.number("layer_norm_eps", 1e-12);
  const std::int64_t vocab = cfg.integer("vocab_size");
  const std::int64_t n_pos = cfg.integer("max_position_embeddings");
  const std::int64_t n_types = cfg.integer("type_vocab_size", 2);

  word_emb_ = w.get("embeddings.word_embeddings.weight", {vocab, H});
  pos_emb_ = w.get("embeddings.position_embeddings.weight", {n_pos, H});
  // Token type ids are all zero for single-segment input: only the first row matters.
  type_row0_ = w.get("embeddings.token_type_embeddings.weight", {n_types, H})[0];
  emb_norm_ = w.layer_norm("embeddings.LayerNorm", H, eps);

  const std::int64_t n_layers = cfg.integer("num_hidden_layers");
  for (std::int64_t i = 0; i < n_layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    layers_.push_back(Layer{
        w.fused_linear({p + "attention.self.query", p + "attention.self.key", p + "attention.self.value"},
                       {H, H, H}, H, true),
        w.linear(p + "attention.output.dense", H, H, true),
        w.layer_norm(p + "attention.output.LayerNorm", H, eps),
        w.linear(p + "intermediate.dense", inter, H, true),
        w.linear(p + "output.dense", H, inter, true),
        w.layer_norm(p + "output.LayerNorm", H, eps),
    });
  }
}

torch::Tensor BertEncoder::layer_forward(const Layer& l, const torch::Tensor& h, const Batch& b,
                                         const torch::Tensor& mask) const {
  const std::vector<torch::Tensor> qkv = l.qkv(h).split(hidden_, -1);
  const AttentionShape shape{heads_, heads_, head_dim_, std::pow(static_cast<double>(head_dim_), -0.5), false};
  const torch::Tensor a = attention(split_heads(qkv[0], heads_, head_dim_), split_heads(qkv[1], heads_, head_dim_),
                                    split_heads(qkv[2], heads_, head_dim_), b, mask, shape);
  const torch::Tensor h1 = l.attn_norm(l.attn_out(a) + h);
  return l.out_norm(l.output(act_(l.intermediate(h1))) + h1);
}

void BertEncoder::run(const Batch& b, const std::vector<std::int64_t>& layers, const LayerSink& sink) const {
  const LayerTaps taps(layers, num_layers(), sink, b.packed());
  const torch::Tensor pos = positions_(b);
  torch::Tensor h = torch::embedding(word_emb_, b.ids) + type_row0_;
  h = emb_norm_(h + torch::embedding(pos_emb_, pos));
  const torch::Tensor attn_mask = padding_mask(b.mask, b.padded);
  taps.offer(0, h);
  for (std::int64_t i = 0; i < taps.blocks(); ++i) {
    h = layer_forward(layers_[static_cast<std::size_t>(i)], h, b, attn_mask);
    taps.offer(i + 1, h);
  }
}

void BertEncoder::forward_layers(const torch::Tensor& ids, const torch::Tensor& mask,
                                 const std::vector<std::int64_t>& layers, const LayerSink& sink) {
  c10::InferenceMode guard;
  run(prepare_batch(ids, mask, device_, max_positions_, config_path_), layers, sink);
}

void BertEncoder::forward_packed_layers(const PackedRows& rows, const std::vector<std::int64_t>& layers,
                                        const LayerSink& sink) {
  c10::InferenceMode guard;
  run(prepare_packed(rows, device_, max_positions_, config_path_), layers, sink);
}

std::unique_ptr<Encoder> make_bert(const ModelConfig& cfg, const std::filesystem::path& dir,
                                   torch::ScalarType dtype, torch::Device device) {
  const Weights w(dir, "embeddings.word_embeddings.weight", dtype, device);
  // A token's position is its index in its row (with right padding: its column).
  PositionRule in_row = [](const Batch& b) { return b.positions; };
  return std::make_unique<BertEncoder>(cfg, w, "bert", in_row, cfg.integer("max_position_embeddings"));
}

}  // namespace strata::nn

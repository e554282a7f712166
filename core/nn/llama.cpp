#include "core/nn/llama.h"

#include <cmath>

#include "core/nn/architectures.h"
#include "core/nn/fused_ops.h"
#include "core/nn/weights.h"
#include "core/util/error.h"

namespace strata::nn {

namespace {

class DecoderEncoder : public Encoder {
 public:
  DecoderEncoder(const DecoderSpec& spec, const ModelConfig& cfg, const Weights& w);

  void forward_layers(const torch::Tensor& ids, const torch::Tensor& mask, const std::vector<std::int64_t>& layers,
                      const LayerSink& sink) override;
  void forward_packed_layers(const PackedRows& rows, const std::vector<std::int64_t>& layers,
                             const LayerSink& sink) override;
  std::int64_t num_layers() const override { return static_cast<std::int64_t>(layers_.size()); }
  std::int64_t hidden_size() const override { return s_.hidden; }
  std::string architecture() const override { return s_.architecture; }
  std::int64_t max_positions() const override { return s_.max_positions; }

 private:
  struct Layer {
    RmsNorm input_norm;
    Linear qkv;  // q, k, v projections stacked: one matmul
    Linear o_proj;
    RmsNorm post_norm;
    Linear gate_up;  // gate and up projections stacked
    Linear down;
  };

  // Both layouts: every step but attention is the same code.
  void run(const Batch& b, const std::vector<std::int64_t>& layers, const LayerSink& sink) const;

  // act(gate) * up of the stacked [gate | up] projection; silu is one fused kernel on CUDA.
  torch::Tensor gated(const torch::Tensor& gate_up) const {
    if (silu_) return silu_and_mul(gate_up);
    const std::vector<torch::Tensor> gu = gate_up.chunk(2, -1);
    return act_(gu[0]) * gu[1];
  }

  DecoderSpec s_;
  std::string config_path_;
  Activation act_;
  bool silu_;
  torch::Device device_;
  Rope rope_;
  torch::Tensor embed_;
  std::vector<Layer> layers_;
  RmsNorm final_norm_;
};

DecoderEncoder::DecoderEncoder(const DecoderSpec& s, const ModelConfig& cfg, const Weights& w)
    : s_(s),
      config_path_(cfg.path().string()),
      act_(activation(s.act, cfg.where("hidden_act"))),
      silu_(s.act == "silu" || s.act == "swish"),
      device_(w.device()),
      rope_(s.rope, s.head_dim, w.device()) {
  const std::int64_t H = s.hidden, q_out = s.heads * s.head_dim, kv_out = s.kv_heads * s.head_dim;
  embed_ = w.get("embed_tokens.weight", {s.vocab, H});
  for (std::int64_t i = 0; i < s.layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    layers_.push_back(Layer{
        w.rms_norm(p + "input_layernorm", H, s.rms_eps),
        w.fused_linear({p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj"},
                       {q_out, kv_out, kv_out}, H, s.qkv_bias),
        w.linear(p + "self_attn.o_proj", H, q_out, s.o_bias),
        w.rms_norm(p + "post_attention_layernorm", H, s.rms_eps),
        w.fused_linear({p + "mlp.gate_proj", p + "mlp.up_proj"}, {s.intermediate, s.intermediate}, H,
                       s.mlp_bias),
        w.linear(p + "mlp.down_proj", H, s.intermediate, s.mlp_bias),
    });
  }
  final_norm_ = w.rms_norm("norm", H, s.rms_eps);
}

void DecoderEncoder::run(const Batch& b, const std::vector<std::int64_t>& layers, const LayerSink& sink) const {
  const LayerTaps taps(layers, num_layers(), sink, b.packed());
  torch::Tensor h = torch::embedding(embed_, b.ids);
  // Rotations by each token's index in its row: one table for every padded row, a table per
  // token packed.
  const auto [cos, sin] = rope_.tables(b.positions, h.scalar_type());
  const torch::Tensor attn_mask = causal_padding_mask(b.mask, causal_needs_mask(b.padded));
  const AttentionShape shape{s_.heads, s_.kv_heads, s_.head_dim,
                             std::pow(static_cast<double>(s_.head_dim), -0.5), true};
  const std::int64_t q_out = s_.heads * s_.head_dim, kv_out = s_.kv_heads * s_.head_dim;
  taps.offer(0, h);
  const std::int64_t n = num_layers();
  for (std::int64_t i = 0; i < taps.blocks(); ++i) {
    const auto& l = layers_[static_cast<std::size_t>(i)];
    const std::vector<torch::Tensor> qkv = l.qkv(l.input_norm(h)).split({q_out, kv_out, kv_out}, -1);
    const torch::Tensor q = Rope::apply(split_heads(qkv[0], s_.heads, s_.head_dim), cos, sin);
    const torch::Tensor k = Rope::apply(split_heads(qkv[1], s_.kv_heads, s_.head_dim), cos, sin);
    const torch::Tensor v = split_heads(qkv[2], s_.kv_heads, s_.head_dim);
    h = l.o_proj.add_to(h, attention(q, k, v, b, attn_mask, shape));
    h = l.down.add_to(h, gated(l.gate_up(l.post_norm(h))));
    if (i + 1 < n) taps.offer(i + 1, h);  // the last block's output is offered normed
  }
  if (taps.wants(n)) taps.offer(n, final_norm_(h));
}

void DecoderEncoder::forward_layers(const torch::Tensor& ids, const torch::Tensor& mask,
                                    const std::vector<std::int64_t>& layers, const LayerSink& sink) {
  c10::InferenceMode guard;
  run(prepare_batch(ids, mask, device_, s_.max_positions, config_path_), layers, sink);
}

void DecoderEncoder::forward_packed_layers(const PackedRows& rows, const std::vector<std::int64_t>& layers,
                                           const LayerSink& sink) {
  c10::InferenceMode guard;
  run(prepare_packed(rows, device_, s_.max_positions, config_path_), layers, sink);
}

}  // namespace

RopeSpec read_rope_spec(const ModelConfig& cfg) {
  const auto& j = cfg.json();
  nlohmann::json params = nlohmann::json::object();
  std::string key = "rope_parameters";
  if (cfg.has("rope_parameters")) params = j["rope_parameters"];
  else if (cfg.has("rope_scaling")) params = j["rope_scaling"], key = "rope_scaling";
  if (!params.is_object()) fail_input("{} should be an object", cfg.where(key));
  const ModelConfig p(params, cfg.path().string() + ": " + key);

  RopeSpec r;
  r.type = p.string("rope_type", p.string("type", "default"));
  r.theta = p.number("rope_theta", cfg.number("rope_theta", 10000.0));
  if (p.number("partial_rotary_factor", cfg.number("partial_rotary_factor", 1.0)) != 1.0)
    fail_input("{}: partial rotary embeddings are not supported", cfg.where(key));
  if (r.type == "default") return r;
  if (r.type == "linear") {
    r.factor = p.number("factor", 1.0);
    return r;
  }
  if (r.type == "llama3") {
    if (!p.has("factor") || !p.has("low_freq_factor") || !p.has("high_freq_factor"))
      fail_input("{}: llama3 scaling needs factor, low_freq_factor and high_freq_factor", cfg.where(key));
    r.factor = p.number("factor", 1.0);
    r.low_freq_factor = p.number("low_freq_factor", 1.0);
    r.high_freq_factor = p.number("high_freq_factor", 4.0);
    r.original_max_positions =
        p.number("original_max_position_embeddings", cfg.number("max_position_embeddings", 8192));
    return r;
  }
  fail_input("{}: rope type '{}' is not supported (default, linear, llama3)", cfg.where(key), r.type);
}

DecoderSpec read_decoder_spec(const ModelConfig& cfg, const std::string& architecture) {
  DecoderSpec s;
  s.architecture = architecture;
  s.vocab = cfg.integer("vocab_size");
  s.hidden = cfg.integer("hidden_size");
  s.layers = cfg.integer("num_hidden_layers");
  s.heads = cfg.integer("num_attention_heads");
  s.kv_heads = cfg.integer("num_key_value_heads", s.heads);
  if (s.heads <= 0 || s.kv_heads <= 0 || s.heads % s.kv_heads != 0)
    fail_input("{}: num_attention_heads {} is not a multiple of num_key_value_heads {}",
               cfg.path().string(), s.heads, s.kv_heads);
  s.head_dim = cfg.integer("head_dim", s.hidden / s.heads);
  if (s.head_dim % 2 != 0) fail_input("{}: head_dim {} is odd (rotary needs pairs)", cfg.path().string(), s.head_dim);
  s.intermediate = cfg.integer("intermediate_size");
  s.max_positions = cfg.integer("max_position_embeddings", 2048);
  s.rms_eps = cfg.number("rms_norm_eps", 1e-6);
  s.act = cfg.string("hidden_act", "silu");
  s.rope = read_rope_spec(cfg);
  return s;
}

std::unique_ptr<Encoder> make_decoder(const DecoderSpec& spec, const ModelConfig& cfg,
                                      const std::filesystem::path& dir, torch::ScalarType dtype,
                                      torch::Device device) {
  const Weights w(dir, "embed_tokens.weight", dtype, device);
  return std::make_unique<DecoderEncoder>(spec, cfg, w);
}

std::unique_ptr<Encoder> make_llama(const ModelConfig& cfg, const std::filesystem::path& dir,
                                    torch::ScalarType dtype, torch::Device device) {
  DecoderSpec s = read_decoder_spec(cfg, "llama");
  s.qkv_bias = s.o_bias = cfg.boolean("attention_bias", false);
  s.mlp_bias = cfg.boolean("mlp_bias", false);
  // tie_word_embeddings only concerns the language-model head, which an encoder never reads.
  return make_decoder(s, cfg, dir, dtype, device);
}

}  // namespace strata::nn

#pragma once
// Tiny random-weight model snapshots (config.json + model.safetensors) written by the tests.
#include <torch/torch.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"

namespace strata::test {

inline std::filesystem::path nn_scratch(const std::string& name) {
  const char* env = std::getenv("STRATA_TEST_TMP");
  auto dir = std::filesystem::path(env ? env : std::filesystem::temp_directory_path().string()) / "nn_test" / name;
  std::filesystem::create_directories(dir);
  return dir;
}

// Token-id rows of these lengths, ids drawn below the tiny models' vocabulary (seeded).
inline std::vector<std::vector<std::int32_t>> rows_of_lengths(const std::vector<std::int64_t>& lengths, std::uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<std::vector<std::int32_t>> rows;
  for (auto n : lengths) {
    const torch::Tensor ids = torch::randint(1, 300, {n}, torch::kInt32);
    rows.emplace_back(ids.data_ptr<std::int32_t>(), ids.data_ptr<std::int32_t>() + n);
  }
  return rows;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

struct TinySizes {
  std::int64_t vocab = 300, hidden = 64, layers = 2, heads = 4, kv_heads = 2, intermediate = 128, positions = 128;
};

inline torch::Tensor rand_weight(std::vector<std::int64_t> shape, double scale = 0.1) {
  return torch::randn(shape) * scale;
}

inline void write_config(const std::filesystem::path& dir, const nlohmann::json& cfg) {
  std::ofstream(dir / "config.json") << cfg.dump(2);
}

// A BERT snapshot; `prefix` is prepended to every tensor name ("" or "bert.").
inline std::filesystem::path write_tiny_bert(const std::string& name, std::uint64_t seed,
                                             const std::string& prefix = "", TinySizes s = {}) {
  torch::manual_seed(seed);
  const auto dir = nn_scratch(name);
  write_config(dir, {{"model_type", "bert"}, {"vocab_size", s.vocab}, {"hidden_size", s.hidden},
                     {"num_hidden_layers", s.layers}, {"num_attention_heads", s.heads},
                     {"intermediate_size", s.intermediate}, {"max_position_embeddings", s.positions},
                     {"type_vocab_size", 2}, {"hidden_act", "gelu"}, {"layer_norm_eps", 1e-12},
                     {"pad_token_id", 0}});
  std::map<std::string, torch::Tensor> w;
  const auto H = s.hidden;
  const auto add_norm = [&](const std::string& n) {
    w[prefix + n + ".weight"] = 1 + rand_weight({H});
    w[prefix + n + ".bias"] = rand_weight({H});
  };
  const auto add_linear = [&](const std::string& n, std::int64_t out, std::int64_t in) {
    w[prefix + n + ".weight"] = rand_weight({out, in});
    w[prefix + n + ".bias"] = rand_weight({out});
  };
  w[prefix + "embeddings.word_embeddings.weight"] = rand_weight({s.vocab, H}, 1.0);
  w[prefix + "embeddings.position_embeddings.weight"] = rand_weight({s.positions, H});
  w[prefix + "embeddings.token_type_embeddings.weight"] = rand_weight({2, H});
  add_norm("embeddings.LayerNorm");
  for (std::int64_t i = 0; i < s.layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    for (const char* m : {"query", "key", "value"}) add_linear(p + "attention.self." + m, H, H);
    add_linear(p + "attention.output.dense", H, H);
    add_norm(p + "attention.output.LayerNorm");
    add_linear(p + "intermediate.dense", s.intermediate, H);
    add_linear(p + "output.dense", H, s.intermediate);
    add_norm(p + "output.LayerNorm");
  }
  io::write_safetensors(dir / "model.safetensors", w);
  return dir;
}

// A RoBERTa snapshot: BERT's tensors, positions offset past the padding index 1 (so its rows
// hold at most positions - 2 tokens).
inline std::filesystem::path write_tiny_roberta(const std::string& name, std::uint64_t seed, TinySizes s = {}) {
  const auto dir = write_tiny_bert(name, seed, "", s);
  std::ifstream in(dir / "config.json");
  nlohmann::json cfg = nlohmann::json::parse(in);
  cfg["model_type"] = "roberta";
  cfg["pad_token_id"] = 1;
  write_config(dir, cfg);
  return dir;
}

// A GPT-2 snapshot (Conv1D weights [in, out], query, key and value stacked in c_attn).
inline std::filesystem::path write_tiny_gpt2(const std::string& name, std::uint64_t seed, TinySizes s = {}) {
  torch::manual_seed(seed);
  const auto dir = nn_scratch(name);
  const auto H = s.hidden, inner = s.intermediate;
  write_config(dir, {{"model_type", "gpt2"}, {"vocab_size", s.vocab}, {"n_embd", H}, {"n_layer", s.layers},
                     {"n_head", s.heads}, {"n_inner", inner}, {"n_positions", s.positions},
                     {"activation_function", "gelu_new"}, {"layer_norm_epsilon", 1e-5}});
  std::map<std::string, torch::Tensor> w;
  const auto add_norm = [&](const std::string& n) {
    w[n + ".weight"] = 1 + rand_weight({H});
    w[n + ".bias"] = rand_weight({H});
  };
  const auto add_conv = [&](const std::string& n, std::int64_t in, std::int64_t out) {
    w[n + ".weight"] = rand_weight({in, out});
    w[n + ".bias"] = rand_weight({out});
  };
  w["wte.weight"] = rand_weight({s.vocab, H}, 1.0);
  w["wpe.weight"] = rand_weight({s.positions, H});
  for (std::int64_t i = 0; i < s.layers; ++i) {
    const std::string p = "h." + std::to_string(i) + ".";
    add_norm(p + "ln_1");
    add_conv(p + "attn.c_attn", H, 3 * H);
    add_conv(p + "attn.c_proj", H, H);
    add_norm(p + "ln_2");
    add_conv(p + "mlp.c_fc", H, inner);
    add_conv(p + "mlp.c_proj", inner, H);
  }
  add_norm("ln_f");
  io::write_safetensors(dir / "model.safetensors", w);
  return dir;
}

// A Llama snapshot with grouped-query attention and llama3 rope scaling.
inline std::filesystem::path write_tiny_llama(const std::string& name, std::uint64_t seed, TinySizes s = {}) {
  torch::manual_seed(seed);
  const auto dir = nn_scratch(name);
  const std::int64_t d = s.hidden / s.heads;
  write_config(dir, {{"model_type", "llama"}, {"vocab_size", s.vocab}, {"hidden_size", s.hidden},
                     {"num_hidden_layers", s.layers}, {"num_attention_heads", s.heads},
                     {"num_key_value_heads", s.kv_heads}, {"intermediate_size", s.intermediate},
                     {"max_position_embeddings", s.positions}, {"rms_norm_eps", 1e-6},
                     {"hidden_act", "silu"}, {"tie_word_embeddings", true},
                     {"rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}}},
                     {"rope_theta", 500000.0}});
  std::map<std::string, torch::Tensor> w;
  const auto H = s.hidden;
  w["model.embed_tokens.weight"] = rand_weight({s.vocab, H}, 1.0);
  for (std::int64_t i = 0; i < s.layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    w[p + "input_layernorm.weight"] = 1 + rand_weight({H});
    w[p + "post_attention_layernorm.weight"] = 1 + rand_weight({H});
    w[p + "self_attn.q_proj.weight"] = rand_weight({s.heads * d, H});
    w[p + "self_attn.k_proj.weight"] = rand_weight({s.kv_heads * d, H});
    w[p + "self_attn.v_proj.weight"] = rand_weight({s.kv_heads * d, H});
    w[p + "self_attn.o_proj.weight"] = rand_weight({H, s.heads * d});
    w[p + "mlp.gate_proj.weight"] = rand_weight({s.intermediate, H});
    w[p + "mlp.up_proj.weight"] = rand_weight({s.intermediate, H});
    w[p + "mlp.down_proj.weight"] = rand_weight({H, s.intermediate});
  }
  w["model.norm.weight"] = 1 + rand_weight({H});
  io::write_safetensors(dir / "model.safetensors", w);
  return dir;
}

}  // namespace strata::test

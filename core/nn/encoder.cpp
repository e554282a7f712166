#include "core/nn/encoder.h"

#include <algorithm>

#include <fmt/ranges.h>

#include "core/nn/architectures.h"
#include "core/util/error.h"

namespace strata::nn {

const std::vector<Architecture>& architectures() {
  static const std::vector<Architecture> table{
      {"bert", make_bert}, {"roberta", make_roberta}, {"gpt2", make_gpt2}, {"llama", make_llama},
      {"mistral", make_mistral}, {"qwen2", make_qwen2},
  };
  return table;
}

std::vector<std::string> known_architectures() {
  std::vector<std::string> names;
  for (const auto& a : architectures()) names.push_back(a.model_type);
  return names;
}

const std::vector<std::string>& dtype_names() {
  static const std::vector<std::string> names{"fp32", "fp16", "bf16"};
  return names;
}

torch::ScalarType parse_dtype(const std::string& dtype) {
  if (dtype == "fp32" || dtype == "float32") return torch::kFloat32;
  if (dtype == "fp16" || dtype == "float16") return torch::kFloat16;
  if (dtype == "bf16" || dtype == "bfloat16") return torch::kBFloat16;
  fail_input("dtype '{}' is not known ({})", dtype, fmt::join(dtype_names(), ", "));
}

namespace {

// Sizes that a config.json may set to anything: each must be a positive count small enough for
// the kernels' index types, checked before an architecture divides by one or allocates by one.
void check_sizes(const ModelConfig& cfg) {
  constexpr std::int64_t kLargest = std::int64_t{1} << 30;
  for (const char* key : {"vocab_size", "hidden_size", "num_attention_heads", "num_hidden_layers", "intermediate_size",
                          "max_position_embeddings", "num_key_value_heads", "head_dim", "n_embd", "n_head", "n_layer",
                          "n_positions", "n_inner", "type_vocab_size"}) {
    if (!cfg.has(key)) continue;
    const std::int64_t v = cfg.integer(key);
    if (v < 1 || v > kLargest) fail_input("{} = {} is out of range (1 to {})", cfg.where(key), v, kLargest);
  }
}

}  // namespace

std::unique_ptr<Encoder> load_encoder(const std::filesystem::path& snapshot_dir, const std::string& dtype,
                                      torch::Device device) {
  const torch::ScalarType type = parse_dtype(dtype);
  if (device.is_cuda() && !torch::cuda::is_available())
    fail_run("cannot load {} on {}: no CUDA device is available", snapshot_dir.string(), device.str());
  const ModelConfig cfg(snapshot_dir);
  const std::string model_type = cfg.string("model_type");
  check_sizes(cfg);
  std::unique_ptr<Encoder> enc;
  for (const auto& a : architectures())
    if (a.model_type == model_type) enc = a.make(cfg, snapshot_dir, type, device);
  if (!enc)
    fail_input("{}: model_type '{}' is not supported ({})", cfg.path().string(), model_type,
               fmt::join(known_architectures(), ", "));
  // Every architecture sizes its token embedding table by vocab_size (its weights are checked
  // against it), so ids are bounded by it.
  enc->set_source(snapshot_dir, cfg.integer("vocab_size"));
  return enc;
}

torch::Tensor Encoder::forward(const torch::Tensor& ids, const torch::Tensor& mask) {
  torch::Tensor last;
  forward_layers(ids, mask, {num_layers()}, [&](std::int64_t, const torch::Tensor& h) { last = h; });
  return last;
}

std::int64_t snapshot_layers(const std::filesystem::path& snapshot_dir) {
  const ModelConfig cfg(snapshot_dir);
  check_sizes(cfg);
  return cfg.has("num_hidden_layers") ? cfg.integer("num_hidden_layers") : cfg.integer("n_layer");
}

std::vector<std::int64_t> resolve_layers(const std::vector<std::int64_t>& layers, std::int64_t num_layers) {
  if (layers.empty()) return {num_layers};
  std::vector<std::int64_t> out;
  for (std::int64_t l : layers) {
    if (l < -(num_layers + 1) || l > num_layers)
      fail_input("layer {} does not exist: the model has hidden states 0 to {} (or -1 to -{} from the end)", l,
                 num_layers, num_layers + 1);
    out.push_back(l < 0 ? l + num_layers + 1 : l);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace strata::nn

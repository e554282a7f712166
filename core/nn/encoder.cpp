#include "core/nn/encoder.h"

#include "core/nn/architectures.h"
#include "core/util/error.h"

namespace strata::nn {

torch::ScalarType parse_dtype(const std::string& dtype) {
  if (dtype == "fp32" || dtype == "float32") return torch::kFloat32;
  if (dtype == "fp16" || dtype == "float16") return torch::kFloat16;
  if (dtype == "bf16" || dtype == "bfloat16") return torch::kBFloat16;
  fail_input("dtype '{}' is not known (fp32, fp16, bf16)", dtype);
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
  if (model_type == "bert") enc = make_bert(cfg, snapshot_dir, type, device);
  else if (model_type == "roberta") enc = make_roberta(cfg, snapshot_dir, type, device);
  else if (model_type == "gpt2") enc = make_gpt2(cfg, snapshot_dir, type, device);
  else if (model_type == "llama") enc = make_llama(cfg, snapshot_dir, type, device);
  else if (model_type == "qwen2") enc = make_qwen2(cfg, snapshot_dir, type, device);
  else
    fail_input("{}: model_type '{}' is not supported (bert, roberta, gpt2, llama, qwen2)", cfg.path().string(),
               model_type);
  // Every architecture sizes its token embedding table by vocab_size (its weights are checked
  // against it), so ids are bounded by it.
  enc->set_source(snapshot_dir, cfg.integer("vocab_size"));
  return enc;
}

}  // namespace strata::nn

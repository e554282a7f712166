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

std::unique_ptr<Encoder> load_encoder(const std::filesystem::path& snapshot_dir, const std::string& dtype,
                                      torch::Device device) {
  const torch::ScalarType type = parse_dtype(dtype);
  if (device.is_cuda() && !torch::cuda::is_available())
    fail_run("cannot load {} on {}: no CUDA device is available", snapshot_dir.string(), device.str());
  const ModelConfig cfg(snapshot_dir);
  const std::string model_type = cfg.string("model_type");
  if (model_type == "bert") return make_bert(cfg, snapshot_dir, type, device);
  if (model_type == "roberta") return make_roberta(cfg, snapshot_dir, type, device);
  if (model_type == "gpt2") return make_gpt2(cfg, snapshot_dir, type, device);
  if (model_type == "llama") return make_llama(cfg, snapshot_dir, type, device);
  if (model_type == "qwen2") return make_qwen2(cfg, snapshot_dir, type, device);
  fail_input("{}: model_type '{}' is not supported (bert, roberta, gpt2, llama, qwen2)",
             cfg.path().string(), model_type);
}

}  // namespace strata::nn

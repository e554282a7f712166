#include "core/nn/weights.h"

#include <fmt/ranges.h>

#include "core/util/error.h"

namespace strata::nn {

namespace {

std::string find_prefix(const io::SafetensorsStore& store, const std::string& anchor) {
  std::vector<std::string> found;
  for (const auto& name : store.names()) {
    if (name == anchor) found.emplace_back();
    else if (name.size() > anchor.size() && name.ends_with("." + anchor))
      found.push_back(name.substr(0, name.size() - anchor.size()));
  }
  if (found.empty())
    fail_input("{}: no tensor '{}' under any prefix (weights of another architecture?)",
               store.source().string(), anchor);
  if (found.size() > 1)
    fail_input("{}: tensor '{}' appears under several prefixes ({}); cannot tell which is the "
               "base model", store.source().string(), anchor, fmt::join(found, ", "));
  return found.front();
}

}  // namespace

Weights::Weights(const std::filesystem::path& snapshot_dir, const std::string& anchor,
                 torch::ScalarType dtype, torch::Device device)
    : store_(snapshot_dir), prefix_(find_prefix(store_, anchor)), dtype_(dtype), device_(device) {}

std::string Weights::resolve(const std::string& name) const {
  const std::string full = prefix_ + name;
  if (!store_.contains(full))
    fail_input("{}: missing tensor '{}' (does config.json match the weights?)",
               store_.source().string(), full);
  return full;
}

torch::Tensor Weights::get(const std::string& name, const std::vector<std::int64_t>& shape) const {
  const std::string full = resolve(name);
  const auto& entry = store_.entry(full);
  if (entry.shape != shape)
    fail_input("{}: tensor '{}' has shape {} but config.json implies {}", store_.source().string(),
               full, entry.shape, shape);
  torch::NoGradGuard no_grad;
  auto t = store_.load(full, dtype_, device_);
  // Checked here, where the tensor can be named: not every kernel carries a NaN to the output
  // (a packed batch's attention may drop it), and an embedding of such weights means nothing.
  if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>())
    fail_input("{}: tensor '{}' holds NaN or infinite values (in {})", store_.source().string(), full,
               c10::toString(t.scalar_type()));
  return t;
}

Linear Weights::linear(const std::string& name, std::int64_t out, std::int64_t in, bool bias) const {
  Linear l{get(name + ".weight", {out, in}), {}};
  if (bias) l.bias = get(name + ".bias", {out});
  return l;
}

Linear Weights::fused_linear(const std::vector<std::string>& names, const std::vector<std::int64_t>& outs,
                             std::int64_t in, bool bias) const {
  std::vector<torch::Tensor> w, b;
  for (std::size_t i = 0; i < names.size(); ++i) {
    Linear part = linear(names[i], outs[i], in, bias);
    w.push_back(part.weight);
    if (bias) b.push_back(part.bias);
  }
  return Linear{torch::cat(w, 0), bias ? torch::cat(b, 0) : torch::Tensor()};
}

Linear Weights::conv1d(const std::string& name, std::int64_t in, std::int64_t out) const {
  return Linear{get(name + ".weight", {in, out}).t().contiguous(), get(name + ".bias", {out})};
}

LayerNorm Weights::layer_norm(const std::string& name, std::int64_t size, double eps) const {
  if (!has(name + ".weight") && has(name + ".gamma"))
    return LayerNorm{get(name + ".gamma", {size}), get(name + ".beta", {size}), eps};
  return LayerNorm{get(name + ".weight", {size}), get(name + ".bias", {size}), eps};
}

RmsNorm Weights::rms_norm(const std::string& name, std::int64_t size, double eps) const {
  return RmsNorm{get(name + ".weight", {size}), eps};
}

}  // namespace strata::nn

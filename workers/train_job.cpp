// The train job: fit the sparse mixture of dictionary experts to one embedding and record
// what does not depend on the stratum count (gating, codes, expert geometry).
#include "cluster/device.h"
#include "core/analysis/analysis.h"
#include "core/analysis/model_health.h"
#include "core/moe/input_transform.h"
#include "core/util/log.h"
#include "core/moe/trainer.h"
#include "workers/jobs.h"

namespace strata::workers {

namespace {

// How the trained model stands, for whoever reads its readouts (model_health.h).
void add_health(const moe::MoeConfig& cfg, const torch::Tensor& X, const moe::TrainResult& r, Payload& p) {
  torch::Tensor thresholds;
  for (const auto& [name, t] : r.params)
    if (name == "lista_theta") thresholds = t;
  const auto Xm = moe::prepare_inputs(X.to(torch::kCPU), cfg).X;
  const auto h = analysis::model_health(Xm, r.gating, r.recon_error, r.support, r.sparsity, thresholds);
  p.tensors["health/variance_explained"] = torch::tensor(h.variance_explained, torch::kFloat64);
  p.tensors["health/usage"] = h.usage;
  p.tensors["health/argmax_share"] = h.argmax_share;
  p.tensors["health/mean_l0"] = h.mean_l0;
  p.tensors["health/dead_atoms"] = h.dead_atoms;
  p.tensors["health/densest_argmax_share"] = torch::tensor(h.densest_argmax_share, torch::kFloat64);
  p.tensors["health/entropy"] = torch::tensor(h.entropy, torch::kFloat64);
  p.tensors["health/entropy_max"] = torch::tensor(h.entropy_max, torch::kFloat64);
  p.tensors["health/negative_thresholds"] = torch::tensor(h.negative_thresholds, torch::kFloat64);
  p.tensors["health/unconstrained_experts"] = torch::tensor(h.unconstrained_experts, torch::kInt64);
  p.tensors["health/collapsed"] = torch::tensor(static_cast<std::int64_t>(h.collapsed), torch::kInt64);
  // The authors' procedure routes by a gate no loss reaches: its weights are a fixed random
  // function of the input, and readouts built on them are labelled so.
  p.attrs["gate_training"] = cfg.preset == "authors-code" ? "untrained" : cfg.gate == "uniform" ? "none" : "trained";
  if (h.unconstrained_experts > 0)
    log::info("moe: {} expert(s) keep all {} atoms: top-s puts no sparsity constraint on them", h.unconstrained_experts,
              cfg.atoms);
}

}  // namespace

namespace {

// A trained model's payload: its parameters and outputs, what does not depend on the stratum
// count, and its health.
Payload train_payload(const moe::MoeConfig& cfg, const torch::Tensor& X, const moe::TrainResult& r, torch::Device device) {
  Payload p;
  for (const auto& [name, t] : r.params) p.tensors["params/" + name] = t.to(torch::kCPU).contiguous();
  p.tensors["train/loss"] = torch::tensor(r.loss, torch::kFloat64);
  p.tensors["out/gating"] = r.gating.to(torch::kCPU).to(torch::kFloat32).contiguous();
  p.tensors["out/recon_error"] = r.recon_error.to(torch::kCPU).to(torch::kFloat32).contiguous();
  p.tensors["out/support"] = r.support.to(torch::kCPU).to(torch::kUInt8).contiguous();
  p.tensors["out/selected"] = r.selected.to(torch::kCPU).to(torch::kInt64).contiguous();
  p.tensors["sparsity"] = r.sparsity.to(torch::kCPU).to(torch::kFloat32);

  // Stratum-count independent analyses.
  const auto dist = analysis::expert_distances(r.dictionaries.to(torch::kCPU).to(torch::kFloat64));
  p.tensors["analysis/expert_mean_angle"] = dist.mean_angle;
  p.tensors["analysis/expert_grassmann"] = dist.grassmann;
  const auto Xc = X.to(torch::kCPU);
  p.tensors["analysis/pca3"] = analysis::pca_transform(analysis::pca(Xc, 3), Xc, 3).to(torch::kFloat32).contiguous();
  const auto gating = p.tensors["out/gating"];
  p.tensors["analysis/expert_usage"] = gating.to(torch::kFloat64).mean(0);
  p.numbers["entropy_mean"] = analysis::gating_entropy(gating.to(torch::kFloat64)).mean().item<double>();
  p.numbers["recon_error_mean"] = r.recon_error.to(torch::kFloat64).mean().item<double>();
  p.numbers["final_loss"] = r.loss.empty() ? 0.0 : r.loss.back();
  p.numbers["seconds"] = r.seconds;
  p.attrs["device"] = device.str();
  add_health(cfg, X, r, p);
  return p;
}

}  // namespace

Payload run_train(const moe::MoeConfig& cfg, const torch::Tensor& X, const torch::Tensor& labels, torch::Device device,
                  parallel::ProcessGroup* group) {
  moe::validate(cfg, X.size(1));
  auto r = moe::train_moe(X, labels, cfg, device, group, cluster::device_memory_bytes(device));
  if (group != nullptr && group->rank() != 0) return {};  // group rank 0 reports the result
  return train_payload(cfg, X, r, device);
}

std::vector<Payload> run_train_group(const std::vector<moe::MoeConfig>& cfgs, const torch::Tensor& X, torch::Device device) {
  for (const auto& cfg : cfgs) moe::validate(cfg, X.size(1));
  const auto results = moe::train_moe_group(X, cfgs, device, cluster::device_memory_bytes(device));
  std::vector<Payload> out(cfgs.size());
  for (std::size_t g = 0; g < cfgs.size(); ++g) {
    if (!results[g].failure.empty()) {
      out[g].attrs["failure"] = results[g].failure;
      continue;
    }
    out[g] = train_payload(cfgs[g], X, results[g], device);
  }
  return out;
}

}  // namespace strata::workers

// The train job: fit the sparse mixture of dictionary experts to one embedding and record
// what does not depend on the stratum count (gating, codes, expert geometry).
#include "core/analysis/analysis.h"
#include "core/moe/trainer.h"
#include "workers/jobs.h"

namespace strata::workers {

namespace {

moe::MoeConfig moe_config(const TrainJob& job) {
  moe::MoeConfig c;
  c.atoms = job.atoms;
  c.sparsity = job.sparsity;
  c.lista_steps = job.lista_steps;
  c.gate_dim = job.gate_dim;
  c.gate = job.gate;
  c.lr = job.lr;
  c.epochs = job.epochs;
  c.batch_size = job.batch_size;
  c.load_balance = job.load_balance;
  c.entropy_weight = job.entropy_weight;
  c.standardize = job.standardize;
  c.seed = job.seed;
  c.preset = job.preset;
  c.pca_dim = job.pca_dim;
  return c;
}

}  // namespace

Payload run_train(const TrainJob& job, const torch::Tensor& X, const torch::Tensor& labels, torch::Device device,
                  cluster::ProcessGroup* group) {
  const auto cfg = moe_config(job);
  moe::validate(cfg, X.size(1));
  auto r = moe::train_moe(X, labels, cfg, device, group);
  if (group != nullptr && group->rank() != 0) return {};  // group rank 0 reports the result
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
  return p;
}

}  // namespace strata::workers

#include "core/moe/paper_model.h"

#include <algorithm>
#include <cmath>

#include "core/moe/gate.h"
#include "core/moe/lista.h"

namespace strata::moe {

namespace {

constexpr std::int64_t kEvalChunk = 4096;  // points per evaluation pass (bounds memory)

torch::Tensor unit_columns(const torch::Tensor& D) {
  return D / D.norm(2, {1}, /*keepdim=*/true).clamp_min(1e-12);
}

// ISTA step size per expert: the largest eigenvalue of D_e^T D_e (computed in float64).
torch::Tensor lipschitz(const torch::Tensor& D) {
  const auto Dd = D.to(torch::kFloat64);
  const auto gram = torch::bmm(Dd.transpose(1, 2), Dd);
  return torch::linalg_eigvalsh(gram).select(1, -1);  // ascending: the last is the largest
}

}  // namespace

PaperParams init_paper_params(const MoeConfig& cfg, std::int64_t input_dim, torch::Generator& gen) {
  const auto E = static_cast<std::int64_t>(cfg.sparsity.size()), M = cfg.atoms, L = input_dim;
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  PaperParams p;
  p.dictionaries = unit_columns(torch::randn({E, L, M}, gen, f32));
  const auto c = lipschitz(p.dictionaries).view({E, 1, 1});
  const auto Dd = p.dictionaries.to(torch::kFloat64);
  const auto Dt = Dd.transpose(1, 2);
  p.lista_W = (Dt / c).to(torch::kFloat32).contiguous();
  p.lista_S = (torch::eye(M, torch::kFloat64).unsqueeze(0) - torch::bmm(Dt, Dd) / c).to(torch::kFloat32);
  p.lista_theta = torch::zeros({E, M}, f32);
  if (cfg.gate == "attention") {
    p.gate_Wq = torch::randn({cfg.gate_dim, L}, gen, f32) / std::sqrt(static_cast<double>(L));
    p.gate_keys = torch::randn({E, cfg.gate_dim}, gen, f32);
  }
  return p;
}

PaperMoe::PaperMoe(const MoeConfig& cfg, PaperParams params, torch::Device device)
    : p_(std::move(params)),
      steps_(cfg.lista_steps),
      load_balance_(cfg.load_balance),
      entropy_weight_(cfg.entropy_weight),
      sparsity_cost_(cfg.sparsity_cost),
      sparsity_warmup_(cfg.sparsity_warmup),
      nonnegative_thresholds_(cfg.thresholds == "nonnegative"),
      top_s_(cfg.sparsity, device) {
  begin_epoch(0);  // the ramp's first value, also for a model used before any epoch began
  const auto L = static_cast<double>(p_.dictionaries.size(1));
  atoms_per_dim_ = (torch::tensor(cfg.sparsity, torch::kFloat64) / L).to(device, torch::kFloat32);
  for (auto* t : {&p_.dictionaries, &p_.lista_W, &p_.lista_S, &p_.lista_theta, &p_.gate_Wq, &p_.gate_keys})
    if (t->defined()) *t = t->to(device, torch::kFloat32).contiguous().detach().requires_grad_(true);
}

PaperForward PaperMoe::forward(const torch::Tensor& x) const {
  const auto E = p_.dictionaries.size(0), L = p_.dictionaries.size(1), M = p_.dictionaries.size(2);
  const auto B = x.size(0);
  PaperForward out;
  out.codes = top_s_(lista_encode(x, p_.lista_W, p_.lista_S, p_.lista_theta, steps_));
  if (attention()) {
    out.scores = attention_scores(x, p_.gate_Wq, p_.gate_keys);
    out.gating = torch::softmax(out.scores, 1);
  } else {
    out.gating = uniform_gate(x, E);
  }
  // y = sum_e w_e D_e z_e as one product: [B, E*M] (weighted codes) x [E*M, L].
  const auto weighted = (out.codes * out.gating.t().unsqueeze(2)).permute({1, 0, 2}).reshape({B, E * M});
  const auto D_all = p_.dictionaries.permute({1, 0, 2}).reshape({L, E * M});
  out.y = torch::matmul(weighted, D_all.t());
  return out;
}

torch::Tensor PaperMoe::loss(const PaperForward& out, const torch::Tensor& x) const {
  auto total = torch::mse_loss(out.y, x);
  if (!attention()) return total;
  const auto E = static_cast<double>(out.gating.size(1));
  if (load_balance_ != 0.0) total = total + load_balance_ * E * out.gating.mean(0).square().sum();
  if (entropy_weight_ != 0.0) {
    const auto entropy = -(out.gating * torch::log_softmax(out.scores, 1)).sum(1).mean();
    total = total + entropy_weight_ * entropy;
  }
  if (sparsity_cost_ != 0.0)
    total = total + sparsity_cost_ * sparsity_ramp_ * (out.gating * atoms_per_dim_).sum(1).mean();
  return total;
}

NamedTensors PaperMoe::parameters() const {
  NamedTensors out{{"dictionaries", p_.dictionaries},
                   {"lista_W", p_.lista_W},
                   {"lista_S", p_.lista_S},
                   {"lista_theta", p_.lista_theta}};
  if (attention()) {
    out.emplace_back("gate_Wq", p_.gate_Wq);
    out.emplace_back("gate_keys", p_.gate_keys);
  }
  return out;
}

std::vector<torch::Tensor> PaperMoe::trainable() const {
  std::vector<torch::Tensor> out;
  for (const auto& [name, t] : parameters()) out.push_back(t);
  return out;
}

torch::Tensor PaperMoe::batch_loss(const torch::Tensor& x, const torch::Tensor&) const { return loss(forward(x), x); }

void PaperMoe::after_step() {
  torch::NoGradGuard no_grad;
  p_.dictionaries.div_(p_.dictionaries.norm(2, {1}, true).clamp_min(1e-12));
  if (nonnegative_thresholds_) p_.lista_theta.clamp_min_(0.0);
}

void PaperMoe::begin_epoch(std::int64_t epoch) {
  sparsity_ramp_ = sparsity_warmup_ > 0 ? std::min(1.0, static_cast<double>(epoch + 1) / static_cast<double>(sparsity_warmup_))
                                        : 1.0;
}

Evaluation PaperMoe::evaluate(const torch::Tensor& X) const {
  c10::InferenceMode inference;
  std::vector<torch::Tensor> gating, err, support;
  for (std::int64_t i = 0; i < X.size(0); i += kEvalChunk) {
    const auto x = X.slice(0, i, std::min(i + kEvalChunk, X.size(0)));
    const auto out = forward(x);
    gating.push_back(out.gating);
    err.push_back((x - out.y).square().sum(1));
    support.push_back((out.codes != 0).permute({1, 0, 2}).to(torch::kUInt8));
  }
  Evaluation ev;
  ev.gating = torch::cat(gating).to(torch::kFloat32);
  ev.recon_error = torch::cat(err).to(torch::kFloat32);
  ev.support = torch::cat(support).contiguous();
  ev.selected = ev.gating.argmax(1);
  return ev;
}

}  // namespace strata::moe

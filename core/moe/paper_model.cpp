#include "core/moe/paper_model.h"

#include <algorithm>
#include <cmath>

#include "core/moe/gate.h"
#include "core/moe/lista.h"
#include "core/util/error.h"

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

namespace {

std::vector<std::vector<std::int64_t>> sparsity_sets(const std::vector<MoeConfig>& cfgs) {
  std::vector<std::vector<std::int64_t>> out;
  for (const auto& c : cfgs) out.push_back(c.sparsity);
  return out;
}

// Members share every shape and the gate: they run as one batched model.
void check_members(const std::vector<MoeConfig>& cfgs, const std::vector<PaperParams>& params) {
  if (cfgs.empty() || cfgs.size() != params.size()) fail_input("moe: a group needs one configuration per member");
  for (std::size_t g = 1; g < cfgs.size(); ++g)
    if (!fusable(cfgs.front(), cfgs[g]) || params[g].dictionaries.sizes() != params.front().dictionaries.sizes())
      fail_input("moe: member {} of a group differs in shape from the first (see moe::fusable)", g);
}

}  // namespace

PaperMoe::PaperMoe(const MoeConfig& cfg, PaperParams params, torch::Device device)
    : PaperMoe(std::vector<MoeConfig>{cfg}, [&] {
        std::vector<PaperParams> v;
        v.push_back(std::move(params));
        return v;
      }(), device) {}

PaperMoe::PaperMoe(const std::vector<MoeConfig>& cfgs, std::vector<PaperParams> params, torch::Device device)
    : p_((check_members(cfgs, params), std::move(params))),
      steps_(cfgs.front().lista_steps),
      device_(device),
      top_s_(TopS::of_members(sparsity_sets(cfgs), device)) {
  const auto L = static_cast<double>(p_.front().dictionaries.size(1));
  std::vector<torch::Tensor> per_dim;
  for (const auto& c : cfgs) {
    terms_.push_back({c.load_balance, c.entropy_weight, c.sparsity_cost, c.sparsity_warmup, c.thresholds == "nonnegative"});
    load_balance_ = load_balance_ || c.load_balance != 0.0;
    entropy_ = entropy_ || c.entropy_weight != 0.0;
    sparsity_ = sparsity_ || c.sparsity_cost != 0.0;
    per_dim.push_back(torch::tensor(c.sparsity, torch::kFloat64) / L);
  }
  atoms_per_dim_ = torch::stack(per_dim).unsqueeze(1).to(device, torch::kFloat32);
  const double E = static_cast<double>(p_.front().dictionaries.size(0));
  load_balance_w_ = weights(&Terms::load_balance, E);
  entropy_w_ = weights(&Terms::entropy_weight, 1.0);
  begin_epoch(0);  // the ramp's first value, also for a model used before any epoch began
  for (auto& p : p_)
    for (auto* t : {&p.dictionaries, &p.lista_W, &p.lista_S, &p.lista_theta, &p.gate_Wq, &p.gate_keys})
      if (t->defined()) *t = t->to(device, torch::kFloat32).contiguous().detach().requires_grad_(true);
}

torch::Tensor PaperMoe::stacked(torch::Tensor PaperParams::*field) const {
  if (p_.size() == 1) return (p_.front().*field).unsqueeze(0);
  std::vector<torch::Tensor> all;
  for (const auto& p : p_) all.push_back(p.*field);
  return torch::stack(all);
}

torch::Tensor PaperMoe::weights(double Terms::*term, double scale) const {
  std::vector<float> w;
  for (const auto& t : terms_) w.push_back(static_cast<float>(t.*term * scale));
  return torch::tensor(w, torch::kFloat32).to(device_);
}

PaperForward PaperMoe::forward_members(const torch::Tensor& x) const {
  const auto D = stacked(&PaperParams::dictionaries);
  const auto G = D.size(0), E = D.size(1), L = D.size(2), M = D.size(3);
  const auto B = x.size(1);
  PaperForward out;
  const auto z = lista_encode_members(x, stacked(&PaperParams::lista_W), stacked(&PaperParams::lista_S),
                                      stacked(&PaperParams::lista_theta), steps_);
  out.codes = top_s_(z.reshape({G * E, B, M})).view({G, E, B, M});
  if (attention()) {
    out.scores = attention_scores_members(x, stacked(&PaperParams::gate_Wq), stacked(&PaperParams::gate_keys));
    out.gating = torch::softmax(out.scores, 2);
  } else {
    out.gating = uniform_gate(x, E);
  }
  // y = sum_e w_e D_e z_e as one product per member: [B, E*M] (weighted codes) x [E*M, L].
  const auto weighted = (out.codes * out.gating.permute({0, 2, 1}).unsqueeze(3)).permute({0, 2, 1, 3}).reshape({G, B, E * M});
  const auto D_all = D.permute({0, 2, 1, 3}).reshape({G, L, E * M});
  out.y = torch::bmm(weighted, D_all.transpose(1, 2));
  return out;
}

// Reductions run per member (never one over all of a member's entries at once), so that a
// member's loss is summed in the same order whether it is trained alone or in a group.
torch::Tensor PaperMoe::member_losses(const PaperForward& out, const torch::Tensor& x) const {
  const double entries = static_cast<double>(x.size(1) * x.size(2));
  auto total = (out.y - x).square().sum(2).sum(1) / entries;
  if (!attention()) return total;
  if (load_balance_) total = total + load_balance_w_ * out.gating.mean(1).square().sum(1);
  if (entropy_) total = total + entropy_w_ * (-(out.gating * torch::log_softmax(out.scores, 2)).sum(2).mean(1));
  if (sparsity_) total = total + sparsity_w_ * (out.gating * atoms_per_dim_).sum(2).mean(1);
  return total;
}

PaperForward PaperMoe::forward(const torch::Tensor& x) const {
  TORCH_CHECK(members() == 1, "PaperMoe::forward: a model of one member, not ", members());
  auto out = forward_members(x.unsqueeze(0));
  for (auto* t : {&out.y, &out.gating, &out.scores, &out.codes})
    if (t->defined()) *t = t->squeeze(0);
  return out;
}

torch::Tensor PaperMoe::loss(const PaperForward& out, const torch::Tensor& x) const {
  PaperForward one = out;
  for (auto* t : {&one.y, &one.gating, &one.scores, &one.codes})
    if (t->defined()) *t = t->unsqueeze(0);
  return member_losses(one, x.unsqueeze(0)).squeeze(0);
}

NamedTensors PaperMoe::parameters(std::int64_t g) const {
  const auto& p = params(g);
  NamedTensors out{{"dictionaries", p.dictionaries}, {"lista_W", p.lista_W}, {"lista_S", p.lista_S}, {"lista_theta", p.lista_theta}};
  if (attention()) {
    out.emplace_back("gate_Wq", p.gate_Wq);
    out.emplace_back("gate_keys", p.gate_keys);
  }
  return out;
}

std::vector<torch::Tensor> PaperMoe::trainable(std::int64_t g) const {
  std::vector<torch::Tensor> out;
  for (const auto& [name, t] : parameters(g)) out.push_back(t);
  return out;
}

torch::Tensor PaperMoe::batch_loss(const torch::Tensor& x, const torch::Tensor&) const {
  return member_losses(forward_members(x), x);
}

void PaperMoe::after_step() {
  torch::NoGradGuard no_grad;
  for (std::size_t g = 0; g < p_.size(); ++g) {
    auto& p = p_[g];
    p.dictionaries.div_(p.dictionaries.norm(2, {1}, true).clamp_min(1e-12));
    if (terms_[g].nonnegative_thresholds) p.lista_theta.clamp_min_(0.0);
  }
}

void PaperMoe::begin_epoch(std::int64_t epoch) {
  std::vector<float> w;
  for (const auto& t : terms_) {
    const double ramp = t.sparsity_warmup > 0
                            ? std::min(1.0, static_cast<double>(epoch + 1) / static_cast<double>(t.sparsity_warmup))
                            : 1.0;
    w.push_back(static_cast<float>(t.sparsity_cost * ramp));
  }
  sparsity_w_ = torch::tensor(w, torch::kFloat32).to(device_);
}

std::vector<Evaluation> PaperMoe::evaluate(const torch::Tensor& X) const {
  c10::InferenceMode inference;
  const auto G = members();
  std::vector<std::vector<torch::Tensor>> gating(G), err(G), support(G);
  for (std::int64_t i = 0; i < X.size(0); i += kEvalChunk) {
    const auto x = X.slice(0, i, std::min(i + kEvalChunk, X.size(0)));
    const auto xs = x.unsqueeze(0).expand({G, x.size(0), x.size(1)}).contiguous();
    const auto out = forward_members(xs);
    const auto e = (xs - out.y).square().sum(2);
    for (std::int64_t g = 0; g < G; ++g) {
      gating[g].push_back(out.gating[g]);
      err[g].push_back(e[g]);
      support[g].push_back((out.codes[g] != 0).permute({1, 0, 2}).to(torch::kUInt8));
    }
  }
  std::vector<Evaluation> all;
  for (std::int64_t g = 0; g < G; ++g) {
    Evaluation ev;
    ev.gating = torch::cat(gating[g]).to(torch::kFloat32);
    ev.recon_error = torch::cat(err[g]).to(torch::kFloat32);
    ev.support = torch::cat(support[g]).contiguous();
    ev.selected = ev.gating.argmax(1);
    all.push_back(std::move(ev));
  }
  return all;
}

}  // namespace strata::moe

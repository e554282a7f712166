#include "core/moe/authors_model.h"

#include <cmath>
#include <limits>

#include "core/moe/lista.h"

namespace strata::moe {

namespace {

constexpr std::int64_t kEvalChunk = 4096;

// nn.Linear's default: uniform in +-1/sqrt(fan_in).
torch::Tensor linear_init(torch::IntArrayRef shape, std::int64_t fan_in, torch::Generator& gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return torch::empty(shape, torch::kFloat32).uniform_(-bound, bound, gen);
}

// The selected expert's row of codes [E, B, M] for each point: [B, M].
torch::Tensor select_codes(const torch::Tensor& codes, const torch::Tensor& selected) {
  const auto B = codes.size(1), M = codes.size(2);
  return codes.permute({1, 0, 2}).gather(1, selected.view({B, 1, 1}).expand({B, 1, M})).squeeze(1);
}

}  // namespace

AuthorsParams init_authors_params(const MoeConfig& cfg, std::int64_t pca_dim, torch::Generator& gen) {
  const auto E = static_cast<std::int64_t>(cfg.sparsity.size()), M = cfg.atoms, P = pca_dim;
  const auto T = cfg.authors_lista_layers, G = kAuthorsGateDim;
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  AuthorsParams p;
  p.lista_W = linear_init({T, E, M, P}, P, gen);
  p.lista_S = linear_init({T, E, M, M}, M, gen);
  p.dictionaries = torch::randn({E, P, M}, gen, f32) * 0.01;
  p.gate_W = linear_init({G, P}, P, gen);
  p.gate_b = linear_init({G}, P, gen);
  p.gate_keys = torch::randn({E, G}, gen, f32);
  p.head_W1 = linear_init({M, M}, M, gen);
  p.head_b1 = linear_init({M}, M, gen);
  p.head_W2 = linear_init({P, M}, M, gen);
  p.head_b2 = linear_init({P}, M, gen);
  return p;
}

torch::Tensor authors_route(const torch::Tensor& gating, const torch::Tensor& sparsity) {
  const auto p_max = std::get<0>(gating.max(1, /*keepdim=*/true));
  const auto eligible = gating >= kAuthorsEligibleFraction * p_max;
  const auto inf = torch::full({}, std::numeric_limits<float>::infinity(), sparsity.options());
  // argmin returns the first of equal minima, i.e. the lowest expert index.
  return torch::where(eligible, sparsity.to(gating.dtype()).unsqueeze(0), inf).argmin(1);
}

torch::Tensor contrastive_loss(const torch::Tensor& embeddings, const torch::Tensor& labels, double margin) {
  const auto d = torch::cdist(embeddings, embeddings, 2.0);
  const auto same = (labels.unsqueeze(1) == labels.unsqueeze(0)).to(embeddings.dtype());
  const auto pos = same * d.square();
  const auto neg = (1 - same) * torch::clamp(margin - d, 0.0).square();
  return (pos + neg).mean();
}

AuthorsMoe::AuthorsMoe(const MoeConfig& cfg, AuthorsParams params, torch::Device device)
    : p_(std::move(params)), margin_(cfg.contrastive_margin), top_s_(cfg.sparsity, device) {
  sparsity_ = torch::tensor(cfg.sparsity, torch::kInt64).to(torch::kFloat32).to(device);
  for (auto* t : {&p_.lista_W, &p_.lista_S, &p_.dictionaries, &p_.gate_W, &p_.gate_b, &p_.gate_keys, &p_.head_W1,
                  &p_.head_b1, &p_.head_W2, &p_.head_b2})
    *t = t->to(device, torch::kFloat32).contiguous().detach();
  for (auto& t : trainable(0)) t.requires_grad_(true);
}

AuthorsForward AuthorsMoe::forward(const torch::Tensor& x) const {
  AuthorsForward out;
  torch::Tensor z;
  for (std::int64_t t = 0; t < p_.lista_W.size(0); ++t) {
    auto u = project_all_experts(x, p_.lista_W[t]);
    if (t > 0) u = u + recur_all_experts(z, p_.lista_S[t]);  // z_0 = 0: the first S term vanishes
    z = top_s_(u.contiguous());
  }
  out.codes = z;
  {
    // The gate only picks an expert by index: nothing of it reaches the loss.
    torch::NoGradGuard no_grad;
    const auto query = torch::linear(x, p_.gate_W, p_.gate_b);
    const auto scores = torch::matmul(query, p_.gate_keys.t()) / std::sqrt(static_cast<double>(query.size(1)));
    out.gating = torch::softmax(scores, 1);
    out.selected = authors_route(out.gating, sparsity_);
  }
  const auto z_sel = select_codes(out.codes, out.selected);
  const auto hidden = torch::relu(torch::linear(z_sel, p_.head_W1, p_.head_b1));
  out.projection = torch::linear(hidden, p_.head_W2, p_.head_b2);
  return out;
}

NamedTensors AuthorsMoe::parameters(std::int64_t) const {
  return {{"lista_W", p_.lista_W},   {"lista_S", p_.lista_S}, {"dictionaries", p_.dictionaries},
          {"gate_W", p_.gate_W},     {"gate_b", p_.gate_b},   {"gate_keys", p_.gate_keys},
          {"head_W1", p_.head_W1},   {"head_b1", p_.head_b1}, {"head_W2", p_.head_W2},
          {"head_b2", p_.head_b2}};
}

std::vector<torch::Tensor> AuthorsMoe::trainable(std::int64_t) const {
  return {p_.lista_W, p_.lista_S, p_.head_W1, p_.head_b1, p_.head_W2, p_.head_b2};
}

torch::Tensor AuthorsMoe::batch_loss(const torch::Tensor& x, const torch::Tensor& labels) const {
  TORCH_CHECK(x.dim() == 3 && x.size(0) == 1, "authors-code: one model at a time, got x ", x.sizes());
  return contrastive_loss(forward(x[0]).projection, labels[0], margin_).unsqueeze(0);
}

std::vector<Evaluation> AuthorsMoe::evaluate(const torch::Tensor& X) const {
  c10::InferenceMode inference;
  std::vector<torch::Tensor> gating, selected, err, support;
  for (std::int64_t i = 0; i < X.size(0); i += kEvalChunk) {
    const auto x = X.slice(0, i, std::min(i + kEvalChunk, X.size(0)));
    const auto out = forward(x);
    const auto recon_all = torch::bmm(out.codes, p_.dictionaries.transpose(1, 2));  // [E, B, P]
    const auto recon = select_codes(recon_all, out.selected);
    gating.push_back(out.gating);
    selected.push_back(out.selected);
    err.push_back((x - recon).square().sum(1));
    support.push_back((out.codes != 0).permute({1, 0, 2}).to(torch::kUInt8));
  }
  Evaluation ev;
  ev.gating = torch::cat(gating).to(torch::kFloat32);
  ev.selected = torch::cat(selected).to(torch::kInt64);
  ev.recon_error = torch::cat(err).to(torch::kFloat32);
  ev.support = torch::cat(support).contiguous();
  return {ev};
}

}  // namespace strata::moe

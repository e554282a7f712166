#include "core/moe/input_transform.h"

#include "core/util/error.h"

namespace strata::moe {

Standardizer fit_standardizer(const torch::Tensor& X) {
  const auto Xd = X.to(torch::kFloat64);
  Standardizer s;
  s.mean = Xd.mean(0);
  s.std = Xd.std(0, /*unbiased=*/false);
  s.std = torch::where(s.std > 0, s.std, torch::ones_like(s.std));  // a constant feature stays 0
  return s;
}

torch::Tensor apply(const Standardizer& s, const torch::Tensor& X) {
  return ((X.to(torch::kFloat64) - s.mean) / s.std).to(torch::kFloat32);
}

PcaProjection fit_pca(const torch::Tensor& X, std::int64_t n_components) {
  const auto Xd = X.to(torch::kFloat64);
  if (n_components > std::min(X.size(0), X.size(1)))
    fail_input("moe.pca_dim = {}: PCA of {} points in {} dimensions has at most {} components", n_components, X.size(0),
               X.size(1), std::min(X.size(0), X.size(1)));
  PcaProjection p;
  p.mean = Xd.mean(0);
  const auto svd = torch::linalg_svd(Xd - p.mean, /*full_matrices=*/false);
  auto Vt = std::get<2>(svd).slice(0, 0, n_components);
  const auto biggest = Vt.abs().argmax(1, /*keepdim=*/true);
  auto signs = torch::sign(Vt.gather(1, biggest));
  signs = torch::where(signs == 0, torch::ones_like(signs), signs);
  p.components = (Vt * signs).contiguous();
  return p;
}

torch::Tensor apply(const PcaProjection& p, const torch::Tensor& X) {
  return torch::matmul(X.to(torch::kFloat64) - p.mean, p.components.t()).to(torch::kFloat32);
}

PreparedInputs prepare_inputs(const torch::Tensor& X, const MoeConfig& cfg) {
  const auto Xc = X.to(torch::kCPU);
  PreparedInputs out;
  if (cfg.preset == "authors-code") {
    const auto pca = fit_pca(Xc, cfg.pca_dim);
    out.X = apply(pca, Xc).contiguous();
    out.stats = {{"pca_mean", pca.mean.to(torch::kFloat32)}, {"pca_components", pca.components.to(torch::kFloat32)}};
  } else if (cfg.standardize) {
    const auto s = fit_standardizer(Xc);
    out.X = apply(s, Xc).contiguous();
    out.stats = {{"input_mean", s.mean.to(torch::kFloat32)}, {"input_std", s.std.to(torch::kFloat32)}};
  } else {
    out.X = Xc.to(torch::kFloat32).contiguous();
  }
  return out;
}

torch::Tensor model_space(const torch::Tensor& X, const std::map<std::string, torch::Tensor>& stats) {
  const auto get = [&](const char* name) {
    const auto it = stats.find(name);
    return it == stats.end() ? torch::Tensor() : it->second.to(torch::kCPU, torch::kFloat64);
  };
  const auto Xc = X.to(torch::kCPU);
  if (const auto mean = get("pca_mean"), comps = get("pca_components"); mean.defined() && comps.defined())
    return apply(PcaProjection{mean, comps}, Xc).contiguous();
  if (const auto mean = get("input_mean"), sd = get("input_std"); mean.defined() && sd.defined())
    return apply(Standardizer{mean, sd}, Xc).contiguous();
  return Xc.to(torch::kFloat32).contiguous();
}

}  // namespace strata::moe

#include "core/analysis/pca.h"

#include <algorithm>

#include "core/analysis/tensor_support.h"
#include "core/util/error.h"

namespace strata::analysis {

namespace {

// sklearn's svd_flip(u_based_decision=False): each row of Vᵀ is turned so that its entry of
// largest magnitude (the first such entry on ties) is positive.
torch::Tensor flip_signs(const torch::Tensor& Vt) {
  const auto largest = Vt.abs().argmax(1, /*keepdim=*/true);
  auto signs = Vt.gather(1, largest).sign();
  signs.masked_fill_(signs == 0, 1.0);
  return Vt * signs;
}

}  // namespace

Pca pca(const torch::Tensor& X_in, std::int64_t n_components) {
  const auto X = detail::cpu_double_matrix(X_in, "PCA");
  const auto n = X.size(0);
  if (n < 2) fail_input("PCA: needs at least 2 points, got {}", n);
  const auto rank = std::min(n, X.size(1));
  if (n_components < 0) n_components = rank;
  if (n_components == 0 || n_components > rank) {
    fail_input("PCA: n_components {} must lie in [1, {}] for {} points in {} dimensions", n_components, rank, n, X.size(1));
  }
  Pca p;
  p.mean = X.mean(0);
  const auto singular = torch::linalg_svd(X - p.mean, /*full_matrices=*/false);
  const auto S = std::get<1>(singular);
  const auto Vt = flip_signs(std::get<2>(singular));
  const auto variance = S.pow(2) / static_cast<double>(n - 1);
  const double total = variance.sum().item<double>();
  p.components = Vt.narrow(0, 0, n_components).contiguous();
  p.explained_variance = variance.narrow(0, 0, n_components).contiguous();
  p.explained_variance_ratio = total > 0 ? (p.explained_variance / total) : torch::zeros_like(p.explained_variance);
  return p;
}

torch::Tensor pca_transform(const Pca& p, const torch::Tensor& X_in, std::int64_t dims) {
  const auto X = detail::cpu_double_matrix(X_in, "PCA projection");
  if (X.size(1) != p.mean.size(0)) fail_input("PCA projection: data have {} features, the fit had {}", X.size(1), p.mean.size(0));
  if (dims < 1 || dims > p.components.size(0)) {
    fail_input("PCA projection: dims {} must lie in [1, {}] (the fitted components)", dims, p.components.size(0));
  }
  return (X - p.mean).matmul(p.components.narrow(0, 0, dims).t());
}

std::int64_t pca_dimension(const torch::Tensor& X, double variance_fraction) {
  if (!(variance_fraction > 0.0 && variance_fraction <= 1.0)) {
    fail_input("PCA dimension: the variance fraction must lie in (0, 1], got {}", variance_fraction);
  }
  const Pca p = pca(X);
  const auto& ratio = p.explained_variance_ratio;
  if (ratio.sum().item<double>() == 0.0) return 0;
  const auto cumulative = ratio.cumsum(0);
  const auto position = torch::searchsorted(cumulative, torch::tensor({variance_fraction}, torch::kFloat64));
  return std::min(position.item<std::int64_t>() + 1, ratio.size(0));
}

}  // namespace strata::analysis

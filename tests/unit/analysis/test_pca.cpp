#include "core/analysis/pca.h"

#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/unit/analysis/analysis_fixtures.h"

namespace sa = strata::analysis;
namespace st = strata::analysis::test;

namespace {

// N points in R^D whose sample covariance is exactly R diag(variances) Rᵀ for a random rotation
// R: zero-mean orthonormal columns (QR of centred noise), scaled, then rotated.
torch::Tensor exact_spectrum(const std::vector<double>& variances, std::int64_t n, std::int64_t D, torch::Generator& gen) {
  const auto r = static_cast<std::int64_t>(variances.size());
  auto noise = st::normal(n, r, gen);
  const auto Q = std::get<0>(torch::linalg_qr(noise - noise.mean(0)));
  const auto scale = (torch::tensor(variances, torch::kFloat64) * static_cast<double>(n - 1)).sqrt();
  const auto R = st::random_isometry(D, r, gen);  // [D, r]
  return (Q * scale).matmul(R.t()) + 5.0;          // an offset the centring must remove
}

}  // namespace

TEST_CASE("PCA dimension counts components to a variance fraction on a known spectrum", "[pca]") {
  auto gen = st::generator(4);
  // Cumulative shares: 0.50, 0.80, 0.92, 0.96, 0.985, 1.
  const auto X = exact_spectrum({5.0, 3.0, 1.2, 0.4, 0.25, 0.15}, 500, 20, gen);
  CHECK(sa::pca_dimension(X) == 2);
  CHECK(sa::pca_dimension(X, 0.3) == 1);
  CHECK(sa::pca_dimension(X, 0.85) == 3);
  CHECK(sa::pca_dimension(X, 0.95) == 4);
  CHECK(sa::pca_dimension(X, 0.99) == 6);
}

TEST_CASE("PCA dimension on a sampled Gaussian with a designed spectrum", "[pca]") {
  auto gen = st::generator(5);
  // Standard deviations 4, 3, 2, 1, 0.5 ×5: variances 16, 9, 4, 1, 0.25 ×5 → cumulative
  // shares 0.51, 0.80, 0.93, 0.96, …
  std::vector<double> sd{4, 3, 2, 1, 0.5, 0.5, 0.5, 0.5, 0.5};
  const auto Z = st::normal(10000, 9, gen) * torch::tensor(sd, torch::kFloat64);
  const auto X = Z.matmul(st::random_isometry(32, 9, gen).t());
  CHECK(sa::pca_dimension(X, 0.75) == 2);
  CHECK(sa::pca_dimension(X, 0.45) == 1);
  CHECK(sa::pca_dimension(X, 0.9) == 3);
}

TEST_CASE("PCA projection equals an explicit eigen-decomposition of the covariance up to sign", "[pca]") {
  auto gen = st::generator(6);
  const auto X = st::normal(200, 7, gen) * torch::tensor({3.0, 2.5, 2.0, 1.5, 1.0, 0.7, 0.3}, torch::kFloat64) + 1.0;
  const auto p = sa::pca(X);
  const auto projected = sa::pca_transform(p, X, 7);

  const auto centred = X - X.mean(0);
  const auto cov = centred.t().matmul(centred) / 199.0;
  const auto eig = torch::linalg_eigh(cov);
  const auto values = std::get<0>(eig).flip(0);
  const auto vectors = std::get<1>(eig).flip(1);
  const auto reference = centred.matmul(vectors);
  // Align signs column by column, then compare.
  const auto signs = (reference * projected).sum(0).sign();
  CHECK(torch::allclose(projected, reference * signs, 1e-9, 1e-9));
  CHECK(torch::allclose(p.explained_variance, values, 1e-10, 1e-12));
  CHECK(torch::allclose(p.explained_variance_ratio, values / values.sum(), 1e-10, 1e-12));
  CHECK(torch::allclose(p.mean, X.mean(0)));
  // sklearn's sign rule: the entry of largest magnitude of each component is positive.
  const auto largest = p.components.abs().argmax(1, true);
  CHECK((p.components.gather(1, largest) > 0).all().item<bool>());
  // A reduced fit keeps the leading components.
  const auto p3 = sa::pca(X, 3);
  CHECK(p3.components.size(0) == 3);
  CHECK(torch::allclose(sa::pca_transform(p3, X, 2), projected.narrow(1, 0, 2), 1e-12, 1e-12));
}

TEST_CASE("PCA guards degenerate inputs", "[pca]") {
  CHECK_THROWS_AS(sa::pca_dimension(torch::ones({1, 4})), strata::InputError);
  CHECK(sa::pca_dimension(torch::ones({5, 4})) == 0);  // no variance at all
  CHECK_THROWS_AS(sa::pca_dimension(torch::rand({5, 4}), 0.0), strata::InputError);
  const auto p = sa::pca(torch::rand({5, 4}));
  CHECK_THROWS_AS(sa::pca_transform(p, torch::rand({2, 3}), 1), strata::InputError);
  CHECK_THROWS_AS(sa::pca_transform(p, torch::rand({2, 4}), 5), strata::InputError);
}

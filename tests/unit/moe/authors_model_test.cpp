// The authors' procedure: routing rule, contrastive loss, PCA conventions, what gets trained.
#include <torch/torch.h>

#include <cmath>

#include "core/moe/authors_model.h"
#include "core/moe/input_transform.h"
#include "core/moe/trainer.h"
#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/unit/moe/moe_fixtures.h"

using namespace strata::moe;

TEST_CASE("authors' routing: eligible at half the maximum, smallest sparsity wins", "[moe]") {
  const auto sparsity = torch::tensor({8.f, 12.f, 16.f, 32.f});
  const auto gating = torch::tensor({0.10f, 0.15f, 0.30f, 0.40f,   // eligible: 16, 32 -> expert 2
                                     0.70f, 0.10f, 0.10f, 0.10f,   // only expert 0
                                     0.19f, 0.21f, 0.20f, 0.40f,   // 0.19 < 0.2: 12 wins -> expert 1
                                     0.20f, 0.20f, 0.20f, 0.40f})  // 0.2 >= 0.2: expert 0
                          .view({4, 4});
  const auto sel = authors_route(gating, sparsity);
  CHECK(torch::equal(sel, torch::tensor({2, 0, 1, 0}, torch::kInt64)));
  // Equal sparsity levels: the lowest index among the eligible.
  const auto same = authors_route(torch::tensor({0.2f, 0.5f, 0.3f}).view({1, 3}), torch::tensor({4.f, 4.f, 4.f}));
  CHECK(same.item<std::int64_t>() == 1);
}

TEST_CASE("authors' contrastive loss matches a hand calculation", "[moe]") {
  // Three points on a line at 0, 0.5, 3; labels a, a, b; margin 1.
  const auto h = torch::tensor({0.f, 0.f, 0.5f, 0.f, 3.f, 0.f}).view({3, 2});
  const auto labels = torch::tensor({1, 1, 2}, torch::kInt64);
  // Same-label pairs (ordered): (0,1),(1,0): d^2 = 0.25 each. Different-label pairs:
  // d = 3 and 2.5, both beyond the margin: 0. Diagonal: 0. Mean over 9 pairs: 0.5/9.
  CHECK_THAT(contrastive_loss(h, labels, 1.0).item<double>(), Catch::Matchers::WithinAbs(0.5 / 9.0, 1e-6));
  // Bring point 2 within the margin of point 1: d = 0.8 -> (1 - 0.8)^2 twice.
  const auto h2 = torch::tensor({0.f, 0.f, 0.5f, 0.f, 1.3f, 0.f}).view({3, 2});
  CHECK_THAT(contrastive_loss(h2, labels, 1.0).item<double>(), Catch::Matchers::WithinAbs((0.5 + 2 * 0.04) / 9.0, 1e-6));
}

TEST_CASE("PCA follows scikit-learn's conventions on data with a known spectrum", "[moe]") {
  // Points spread along e2 (scale 3) and e1 (scale 1) in R^3, offset by (5, 5, 5).
  auto gen = init_generator(0);
  const auto a = torch::randn({200, 1}, gen, torch::TensorOptions()) * 3;
  const auto b = torch::randn({200, 1}, gen, torch::TensorOptions());
  const auto X = torch::cat({b, -a, torch::zeros({200, 1})}, 1) + 5;
  const auto p = fit_pca(X, 2);
  CHECK(torch::allclose(p.mean, X.to(torch::kFloat64).mean(0)));
  // First component: +-e2 with the sign that makes its largest entry positive.
  CHECK(torch::allclose(p.components[0].abs(), torch::tensor({0.0, 1.0, 0.0}, torch::kFloat64), 0, 0.05));
  CHECK(p.components[0][1].item<double>() > 0);
  CHECK(p.components[1][0].item<double>() > 0);
  const auto Z = apply(p, X);
  CHECK(Z.scalar_type() == torch::kFloat32);
  CHECK(torch::allclose(Z.mean(0), torch::zeros({2}), 0, 1e-4));
  CHECK_THROWS_AS(fit_pca(X, 4), strata::InputError);
}

TEST_CASE("authors-code trains LISTA and head only; gate and dictionaries keep their init", "[moe]") {
  const auto c = strata::test::moe_config({{"preset", "authors-code"}, {"atoms", 6}, {"sparsity", {2, 4, 6}}, {"pca_dim", 5},
                                           {"authors_lista_layers", 3}, {"epochs", 2}, {"batch_size", 8}});
  auto gen = init_generator(3);
  const auto X = torch::randn({40, 12}, gen, torch::TensorOptions());
  const auto labels = torch::randint(0, 3, {40}, gen, torch::TensorOptions().dtype(torch::kInt64));
  const auto r = train_moe(X, labels, c, torch::kCPU);
  auto init = init_generator(c.seed);
  const auto p0 = init_authors_params(c, c.pca_dim, init);
  auto find = [&](const std::string& name) {
    for (const auto& [n, t] : r.params)
      if (n == name) return t;
    FAIL("no parameter " << name);
    return torch::Tensor();
  };
  CHECK(torch::equal(find("gate_W"), p0.gate_W));
  CHECK(torch::equal(find("gate_keys"), p0.gate_keys));
  CHECK(torch::equal(find("dictionaries"), p0.dictionaries));
  CHECK_FALSE(torch::equal(find("lista_W"), p0.lista_W));
  CHECK_FALSE(torch::equal(find("head_W2"), p0.head_W2));
  CHECK(find("pca_components").sizes() == torch::IntArrayRef({5, 12}));
  CHECK(r.gating.sizes() == torch::IntArrayRef({40, 3}));
  CHECK(r.support.sizes() == torch::IntArrayRef({40, 3, 6}));
  CHECK(r.dictionaries.sizes() == torch::IntArrayRef({3, 5, 6}));
  // Every expert keeps at most s_e atoms; the selection follows the routing rule.
  CHECK((r.support.select(1, 0).sum(1) <= 2).all().item<bool>());
  CHECK(torch::equal(r.selected, authors_route(r.gating, r.sparsity)));
  CHECK(r.loss.size() == 2);
}

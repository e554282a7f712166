// The paper's model: initialisation, forward pass and loss against per-expert calculations.
#include <torch/torch.h>

#include "core/moe/paper_model.h"
#include "core/moe/trainer.h"
#include "tests/catch.hpp"
#include "tests/unit/moe/moe_fixtures.h"

using namespace strata::moe;

namespace {

MoeConfig small_config() {
  return strata::test::moe_config(
      {{"atoms", 6}, {"sparsity", {2, 3, 6}}, {"lista_steps", 3}, {"gate_dim", 4}, {"load_balance", 0.3}, {"entropy_weight", 0.2}});
}

PaperMoe small_model(const MoeConfig& c, std::int64_t L, std::uint64_t seed) {
  auto gen = init_generator(seed);
  return PaperMoe(c, init_paper_params(c, L, gen), torch::kCPU);
}

}  // namespace

TEST_CASE("paper init: unit-norm atoms and the ISTA encoder of each dictionary", "[moe]") {
  const auto c = small_config();
  auto gen = init_generator(1);
  const auto p = init_paper_params(c, 10, gen);
  CHECK(p.dictionaries.sizes() == torch::IntArrayRef({3, 10, 6}));
  CHECK(torch::allclose(p.dictionaries.norm(2, {1}), torch::ones({3, 6}), 1e-6, 1e-6));
  for (int e = 0; e < 3; ++e) {
    const auto D = p.dictionaries[e].to(torch::kFloat64);
    const auto gram = D.t().mm(D);
    const double c_e = torch::linalg_matrix_norm(gram, 2).item<double>();
    CHECK(torch::allclose(p.lista_W[e].to(torch::kFloat64), D.t() / c_e, 1e-5, 1e-6));
    CHECK(torch::allclose(p.lista_S[e].to(torch::kFloat64), torch::eye(6, torch::kFloat64) - gram / c_e, 1e-5, 1e-6));
  }
  CHECK(torch::equal(p.lista_theta, torch::zeros({3, 6})));
  CHECK(p.gate_Wq.sizes() == torch::IntArrayRef({4, 10}));
  CHECK(p.gate_keys.sizes() == torch::IntArrayRef({3, 4}));
}

TEST_CASE("paper forward equals the mixture of each expert's D_e z_e", "[moe]") {
  const auto c = small_config();
  const auto model = small_model(c, 10, 2);
  const auto x = torch::randn({5, 10}, init_generator(7), torch::TensorOptions());
  const auto out = model.forward(x);
  const auto& p = model.params();
  auto y = torch::zeros({5, 10});
  for (int e = 0; e < 3; ++e) {
    const auto nonzero = (out.codes[e] != 0).sum(1);
    CHECK((nonzero <= c.sparsity[e]).all().item<bool>());
    y += out.gating.select(1, e).unsqueeze(1) * torch::matmul(out.codes[e], p.dictionaries[e].t());
  }
  CHECK(torch::allclose(out.y, y, 1e-5, 1e-6));
  CHECK(torch::allclose(out.gating.sum(1), torch::ones({5}), 1e-6, 1e-6));
}

TEST_CASE("paper loss is the mean squared error plus the documented gate terms", "[moe]") {
  const auto c = small_config();
  const auto model = small_model(c, 10, 3);
  const auto x = torch::randn({8, 10}, init_generator(8), torch::TensorOptions());
  const auto out = model.forward(x);
  const double mse = (x - out.y).square().sum(1).mean().item<double>() / 10.0;
  const auto usage = out.gating.mean(0);
  const double balance = 3.0 * usage.square().sum().item<double>();
  const double entropy = -(out.gating * out.gating.log()).sum(1).mean().item<double>();
  const double expected = mse + 0.3 * balance + 0.2 * entropy;
  CHECK_THAT(model.loss(out, x).item<double>(), Catch::Matchers::WithinRel(expected, 1e-5));
}

TEST_CASE("uniform gate: no gate parameters and equal weights", "[moe]") {
  auto c = small_config();
  c.gate = "uniform";
  const auto model = small_model(c, 10, 4);
  for (const auto& [name, t] : model.parameters()) CHECK(name.rfind("gate", 0) != 0);
  const auto out = model.forward(torch::randn({4, 10}));
  CHECK(torch::allclose(out.gating, torch::full({4, 3}, 1.0f / 3.0f)));
}

TEST_CASE("dictionary columns have unit norm after an optimiser step", "[moe]") {
  const auto c = small_config();
  auto model = small_model(c, 10, 5);
  const auto before = model.params().dictionaries.detach().clone();
  Trainer trainer(model, 0.05, nullptr);
  const auto X = torch::randn({16, 10}, init_generator(9), torch::TensorOptions()) * 3;
  trainer.step(X, {}, torch::arange(16));
  const auto& D = model.params().dictionaries;
  CHECK_FALSE(torch::allclose(D, before));
  CHECK(torch::allclose(D.detach().norm(2, {1}), torch::ones({3, 6}), 1e-6, 1e-6));
}

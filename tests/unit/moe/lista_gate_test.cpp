// One LISTA step and the attention gate, against calculations done by hand.
#include <torch/torch.h>

#include <cmath>

#include "core/moe/gate.h"
#include "core/moe/lista.h"
#include "tests/catch.hpp"


namespace {

torch::Tensor t(std::vector<float> v, std::vector<std::int64_t> shape) {
  return torch::tensor(v, torch::kFloat32).view(shape).clone();
}

}  // namespace

TEST_CASE("soft threshold shrinks towards zero by theta", "[moe]") {
  const auto u = t({-2.f, -0.5f, 0.f, 0.3f, 1.5f}, {5});
  const auto out = strata::moe::soft_threshold(u, torch::full({5}, 0.5f));
  CHECK(torch::allclose(out, t({-1.5f, 0.f, 0.f, 0.f, 1.f}, {5})));
}

TEST_CASE("LISTA steps match a hand calculation", "[moe]") {
  // One expert, M = 2 atoms, L = 3, one point x = (1, 2, -1).
  const auto x = t({1.f, 2.f, -1.f}, {1, 3});
  const auto W = t({1.f, 0.f, 1.f,     // row 1: x1 + x3 = 0
                    0.5f, 1.f, 0.f},   // row 2: 0.5 + 2 = 2.5
                   {1, 2, 3});
  const auto S = t({0.f, 0.5f,  //
                    -1.f, 0.f},
                   {1, 2, 2});
  const auto theta = t({0.1f, 0.5f}, {1, 2});
  // Step 1: b = Wx = (0, 2.5); z1 = h(b) = (0, 2.0).
  const auto z1 = strata::moe::lista_encode(x, W, S, theta, 1);
  CHECK(z1.sizes() == torch::IntArrayRef({1, 1, 2}));
  CHECK_THAT(z1[0][0][0].item<float>(), Catch::Matchers::WithinAbs(0.0, 1e-6));
  CHECK_THAT(z1[0][0][1].item<float>(), Catch::Matchers::WithinAbs(2.0, 1e-6));
  // Step 2: u = b + S z1 = (0 + 0.5*2, 2.5 - 0) = (1, 2.5); z2 = (0.9, 2.0).
  const auto z2 = strata::moe::lista_encode(x, W, S, theta, 2);
  CHECK_THAT(z2[0][0][0].item<float>(), Catch::Matchers::WithinAbs(0.9, 1e-6));
  CHECK_THAT(z2[0][0][1].item<float>(), Catch::Matchers::WithinAbs(2.0, 1e-6));
  // Step 3: u = (0 + 0.5*2, 2.5 - 0.9) = (1, 1.6); z3 = (0.9, 1.1).
  const auto z3 = strata::moe::lista_encode(x, W, S, theta, 3);
  CHECK_THAT(z3[0][0][0].item<float>(), Catch::Matchers::WithinAbs(0.9, 1e-6));
  CHECK_THAT(z3[0][0][1].item<float>(), Catch::Matchers::WithinAbs(1.1, 1e-6));
}

TEST_CASE("the batched expert products equal one product per expert", "[moe]") {
  torch::manual_seed(3);
  const auto x = torch::randn({5, 7});
  const auto W = torch::randn({3, 4, 7});
  const auto S = torch::randn({3, 4, 4});
  const auto z = torch::randn({3, 5, 4});
  const auto Wx = strata::moe::project_all_experts(x, W);
  const auto Sz = strata::moe::recur_all_experts(z, S);
  for (int e = 0; e < 3; ++e) {
    CHECK(torch::allclose(Wx[e], torch::matmul(x, W[e].t()), 1e-5, 1e-6));
    CHECK(torch::allclose(Sz[e], torch::matmul(z[e], S[e].t()), 1e-5, 1e-6));
  }
}

TEST_CASE("the attention gate matches a hand calculation", "[moe]") {
  // L = 2, Q = 4, E = 2. q = Wq x = (1, 0, 2, -1) for x = (1, 1).
  const auto x = t({1.f, 1.f}, {1, 2});
  const auto Wq = t({1.f, 0.f, /**/ 0.f, 0.f, /**/ 1.f, 1.f, /**/ -1.f, 0.f}, {4, 2});
  const auto keys = t({1.f, 1.f, 1.f, 1.f, /**/ 0.f, 1.f, 0.f, 2.f}, {2, 4});
  // sigma_1 = (1 + 0 + 2 - 1)/2 = 1, sigma_2 = (0 + 0 + 0 - 2)/2 = -1.
  const auto sigma = strata::moe::attention_scores(x, Wq, keys);
  CHECK_THAT(sigma[0][0].item<float>(), Catch::Matchers::WithinAbs(1.0, 1e-6));
  CHECK_THAT(sigma[0][1].item<float>(), Catch::Matchers::WithinAbs(-1.0, 1e-6));
  const auto w = strata::moe::attention_gate(x, Wq, keys);
  const double e1 = std::exp(1.0), e2 = std::exp(-1.0);
  CHECK_THAT(w[0][0].item<float>(), Catch::Matchers::WithinAbs(e1 / (e1 + e2), 1e-6));
  CHECK_THAT(w[0][1].item<float>(), Catch::Matchers::WithinAbs(e2 / (e1 + e2), 1e-6));
  const auto u = strata::moe::uniform_gate(torch::zeros({3, 2}), 4);
  CHECK(torch::equal(u, torch::full({3, 4}, 0.25f)));
}

#include "core/analysis/gating_statistics.h"

#include <cmath>

#include "core/util/error.h"
#include "tests/catch.hpp"

namespace sa = strata::analysis;

namespace {
const torch::Tensor& hand_gating() {
  static const auto w = torch::tensor({{0.5, 0.5, 0.0}, {1.0, 0.0, 0.0}, {0.25, 0.25, 0.5}}, torch::kFloat32);
  return w;
}
}  // namespace

TEST_CASE("weighted sparsity per group by hand", "[gating]") {
  // Per point Σ w_e s_e with s = (8, 16, 32): 12, 8, 2 + 4 + 16 = 22.
  const auto s = torch::tensor({8, 16, 32}, torch::kInt64);
  const auto group = torch::tensor({0, 0, 1}, torch::kInt64);
  const auto ws = sa::weighted_sparsity_per_group(hand_gating(), s, group, 3);
  REQUIRE(ws.sizes() == torch::IntArrayRef{3});
  CHECK_THAT(ws[0].item<double>(), Catch::Matchers::WithinRel(10.0, 1e-12));
  CHECK_THAT(ws[1].item<double>(), Catch::Matchers::WithinRel(22.0, 1e-12));
  CHECK(std::isnan(ws[2].item<double>()));  // empty group
  CHECK_THROWS_AS(sa::weighted_sparsity_per_group(hand_gating(), s.narrow(0, 0, 2), group, 3), strata::InputError);
  CHECK_THROWS_AS(sa::weighted_sparsity_per_group(hand_gating(), s, torch::tensor({0, 0, 3}), 3), strata::InputError);
}

TEST_CASE("gating entropy by hand", "[gating]") {
  const auto h = sa::gating_entropy(hand_gating());
  CHECK_THAT(h[0].item<double>(), Catch::Matchers::WithinRel(std::log(2.0), 1e-12));
  CHECK(h[1].item<double>() == 0.0);
  CHECK_THAT(h[2].item<double>(), Catch::Matchers::WithinRel(1.5 * std::log(2.0), 1e-12));
}

TEST_CASE("mean per group keeps trailing dimensions", "[gating]") {
  const auto group = torch::tensor({1, 0, 1}, torch::kInt64);
  const auto m = sa::mean_per_group(hand_gating(), group, 2);
  REQUIRE(m.sizes() == torch::IntArrayRef{2, 3});
  const auto expected = torch::tensor({{1.0, 0.0, 0.0}, {0.375, 0.375, 0.25}}, torch::kFloat64);
  CHECK(torch::allclose(m, expected));
  const auto scalar = sa::mean_per_group(torch::tensor({1.0, 2.0, 4.0}), group, 2);
  CHECK(torch::allclose(scalar, torch::tensor({2.0, 2.5}, torch::kFloat64)));
}

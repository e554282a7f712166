// Hard top-s with a straight-through gradient, against the definition in core/moe/top_s.h.
#include <torch/torch.h>

#include "core/moe/top_s.h"
#include "tests/catch.hpp"

using strata::moe::TopS;

namespace {

torch::Tensor t(std::vector<float> v, std::vector<std::int64_t> shape) {
  return torch::tensor(v, torch::kFloat32).view(shape).clone();
}

}  // namespace

TEST_CASE("top-s keeps the s_e largest magnitudes of each expert's code", "[moe]") {
  // Two experts, two points, four atoms; expert 0 keeps 2, expert 1 keeps 1.
  const auto u = t({0.5f, -3.f, 1.f, 2.f,  /**/ -0.1f, 0.2f, -0.3f, 0.4f,  // expert 0
                    4.f, -1.f, 0.2f, -5.f, /**/ 1.f, 2.f, -3.f, 0.5f},    // expert 1
                   {2, 2, 4});
  const TopS top({2, 1}, torch::kCPU);
  const auto expected = t({0.f, -3.f, 0.f, 2.f, /**/ 0.f, 0.f, -0.3f, 0.4f,  //
                           0.f, 0.f, 0.f, -5.f, /**/ 0.f, 0.f, -3.f, 0.f},
                          {2, 2, 4});
  CHECK(torch::equal(top(u), expected));
  CHECK(torch::equal(top.mask(u), (expected != 0).to(torch::kFloat32)));
}

TEST_CASE("top-s with s = M for every expert is the identity", "[moe]") {
  const auto u = torch::randn({3, 5, 4});
  CHECK(torch::equal(TopS({4, 4, 4}, torch::kCPU)(u), u));
}

TEST_CASE("the straight-through gradient of top-s passes to every entry unchanged", "[moe]") {
  // d/du sum(c * top_s(u)) = c, for kept and dropped entries alike (definition: identity).
  const auto u = t({0.5f, -3.f, 1.f, 2.f, 4.f, -1.f, 0.2f, -5.f}, {2, 1, 4}).requires_grad_(true);
  const auto c = t({1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f, 8.f}, {2, 1, 4});
  const TopS top({2, 1}, torch::kCPU);
  const auto out = top(u);
  (out * c).sum().backward();
  CHECK(torch::equal(u.grad(), c));
  // Forward is still masked.
  CHECK(torch::equal(out.detach(), t({0.f, -3.f, 0.f, 2.f, 0.f, 0.f, 0.f, -5.f}, {2, 1, 4})));
}

TEST_CASE("top-s applies no gradient tape under NoGradGuard", "[moe]") {
  const auto u = torch::randn({1, 2, 6}).requires_grad_(true);
  torch::NoGradGuard g;
  const auto out = TopS({3}, torch::kCPU)(u);
  CHECK_FALSE(out.requires_grad());
  CHECK((out != 0).sum().item<std::int64_t>() == 6);
}

#include "core/analysis/subspace_angles.h"

#include <cmath>

#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/unit/analysis/analysis_fixtures.h"

namespace sa = strata::analysis;
namespace st = strata::analysis::test;

namespace {

// Two 2-D subspaces of R^4 at principal angles a ≤ b, rotated into R^L by an isometry R and
// given as skewed, scaled spanning sets (so the function has to orthonormalise them).
std::pair<torch::Tensor, torch::Tensor> planes_at(double a, double b, const torch::Tensor& R) {
  auto A = torch::zeros({4, 2}, torch::kFloat64);
  A[0][0] = 1.0;
  A[1][1] = 1.0;
  auto B = torch::zeros({4, 2}, torch::kFloat64);
  B[0][0] = std::cos(a);
  B[2][0] = std::sin(a);
  B[1][1] = std::cos(b);
  B[3][1] = std::sin(b);
  const auto skew = torch::tensor({{2.0, 0.5}, {-1.0, 3.0}}, torch::kFloat64);
  return {R.matmul(A.matmul(skew)), R.matmul(B.matmul(skew.t()))};
}

}  // namespace

TEST_CASE("principal angles of hand-built subspaces", "[angles]") {
  auto gen = st::generator(11);
  const auto R = st::random_isometry(16, 4, gen);
  for (const auto& [a, b] : std::vector<std::pair<double, double>>{{0.3, 1.1}, {0.0, M_PI / 2}, {1e-6, 0.7}, {0.8, 0.8}}) {
    const auto [A, B] = planes_at(a, b, R);
    const auto theta = sa::principal_angles(A, B);
    REQUIRE(theta.numel() == 2);
    INFO("a = " << a << ", b = " << b);
    CHECK_THAT(theta[0].item<double>(), Catch::Matchers::WithinAbs(a, 1e-12));
    CHECK_THAT(theta[1].item<double>(), Catch::Matchers::WithinAbs(b, 1e-12));
    const auto back = sa::principal_angles(B, A);
    CHECK(torch::allclose(back, theta, 0.0, 1e-12));
  }
}

TEST_CASE("principal angles respect numerical rank and unequal dimensions", "[angles]") {
  // A: span(e1) given by two parallel columns; B: span(e1 cos t + e2 sin t, e3).
  const double t = 0.4;
  auto A = torch::zeros({5, 2}, torch::kFloat64);
  A[0][0] = 1.0;
  A[0][1] = -2.0;
  auto B = torch::zeros({5, 2}, torch::kFloat64);
  B[0][0] = std::cos(t);
  B[1][0] = std::sin(t);
  B[2][1] = 1.0;
  const auto theta = sa::principal_angles(A, B);
  REQUIRE(theta.numel() == 1);
  CHECK_THAT(theta[0].item<double>(), Catch::Matchers::WithinAbs(t, 1e-12));
  CHECK_THROWS_AS(sa::principal_angles(A, torch::zeros({4, 2})), strata::InputError);
}

TEST_CASE("expert distances: zero to itself, known angles to a rotated copy", "[angles]") {
  auto gen = st::generator(12);
  const auto R = st::random_isometry(16, 4, gen);
  const auto [A, B] = planes_at(0.3, 1.1, R);
  // Expert 0: A; expert 1: another spanning set of A's plane; expert 2: B. Two atoms each.
  const auto mix = torch::tensor({{1.0, 1.0}, {0.0, -2.0}}, torch::kFloat64);
  const auto D = torch::stack({A, A.matmul(mix), B}).to(torch::kFloat32);
  const auto d = sa::expert_distances(D);
  REQUIRE(d.mean_angle.sizes() == torch::IntArrayRef{3, 3});
  CHECK(torch::equal(d.mean_angle.diagonal(), torch::zeros({3}, torch::kFloat64)));
  CHECK(torch::equal(d.grassmann.diagonal(), torch::zeros({3}, torch::kFloat64)));
  CHECK(torch::equal(d.mean_angle, d.mean_angle.t()));
  // Same plane in float32: the angle is zero to float32 accuracy.
  CHECK(d.grassmann[0][1].item<double>() < 1e-6);
  CHECK_THAT(d.mean_angle[0][2].item<double>(), Catch::Matchers::WithinAbs(0.7, 1e-6));
  CHECK_THAT(d.grassmann[0][2].item<double>(), Catch::Matchers::WithinAbs(std::sqrt(0.09 + 1.21), 1e-6));
  // In float64, a dictionary against itself is zero to machine precision.
  CHECK(sa::principal_angles(A, A).abs().max().item<double>() < 1e-14);
}

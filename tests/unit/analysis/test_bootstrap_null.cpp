#include <cmath>
#include <limits>

#include "core/analysis/bootstrap.h"
#include "core/analysis/null_model.h"
#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/unit/analysis/analysis_fixtures.h"

namespace sa = strata::analysis;
namespace st = strata::analysis::test;

TEST_CASE("bootstrap interval of a mean covers the true mean with the expected width", "[bootstrap]") {
  auto gen = st::generator(13);
  const std::int64_t n = 4000;
  const auto sample = 3.0 + 2.0 * torch::randn({n}, gen, torch::kFloat64);
  const auto mean_of = [&](const torch::Tensor& idx) { return sample.index({idx}).mean().item<double>(); };
  const auto ci = sa::bootstrap_ci(n, mean_of, 300, /*seed=*/5);
  CHECK_THAT(ci.estimate, Catch::Matchers::WithinRel(sample.mean().item<double>(), 1e-14));
  CHECK(ci.lo < 3.0);
  CHECK(ci.hi > 3.0);
  CHECK(ci.lo < ci.estimate);
  CHECK(ci.estimate < ci.hi);
  // A 95% interval of a mean is about 2 × 1.96 σ/√n wide.
  const double width = 2.0 * 1.96 * 2.0 / std::sqrt(static_cast<double>(n));
  CHECK_THAT((ci.hi - ci.lo), Catch::Matchers::WithinRel(width, 0.2));

  const auto again = sa::bootstrap_ci(n, mean_of, 300, 5);
  CHECK(again.lo == ci.lo);
  CHECK(again.hi == ci.hi);
  const auto other = sa::bootstrap_ci(n, mean_of, 300, 6);
  CHECK(other.lo != ci.lo);
}

TEST_CASE("bootstrap skips NaN resamples and rejects bad arguments", "[bootstrap]") {
  int calls = 0;
  const auto sometimes = [&](const torch::Tensor& idx) {
    return (calls++ % 2) ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(idx.size(0));
  };
  const auto ci = sa::bootstrap_ci(7, sometimes, 10, 0);
  CHECK(ci.lo == 7.0);
  CHECK(ci.hi == 7.0);
  const auto never = sa::bootstrap_ci(7, [](const torch::Tensor&) { return std::nan(""); }, 5, 0);
  CHECK(std::isnan(never.lo));
  CHECK_THROWS_AS(sa::bootstrap_ci(0, sometimes, 10, 0), strata::InputError);
  CHECK_THROWS_AS(sa::bootstrap_ci(5, sometimes, 10, 0, 1.0), strata::InputError);
}

TEST_CASE("Gaussian null model matches the data's mean and covariance", "[null]") {
  auto gen = st::generator(14);
  const auto mix = st::normal(4, 4, gen);
  const auto X = (st::normal(3000, 4, gen).matmul(mix) + torch::tensor({1.0, -2.0, 0.5, 3.0}, torch::kFloat64));
  const auto null = sa::gaussian_null(X, 40000, 21);
  REQUIRE(null.sizes() == torch::IntArrayRef{40000, 4});
  const auto cov = [](const torch::Tensor& Y) {
    const auto c = Y - Y.mean(0);
    return c.t().matmul(c) / static_cast<double>(Y.size(0) - 1);
  };
  const double scale = cov(X).abs().max().item<double>();
  CHECK(torch::allclose(null.mean(0), X.mean(0), 0.0, 0.05 * std::sqrt(scale)));
  CHECK(torch::allclose(cov(null), cov(X), 0.0, 0.05 * scale));
  CHECK(torch::equal(null, sa::gaussian_null(X, 40000, 21)));
  CHECK_FALSE(torch::equal(null, sa::gaussian_null(X, 40000, 22)));
}

TEST_CASE("Gaussian null model of rank-deficient data stays in the data's affine span", "[null]") {
  auto gen = st::generator(15);
  const auto X = st::normal(5, 10, gen).to(torch::kFloat32);  // 5 points in R^10: rank 4
  const auto null = sa::gaussian_null(X, 100, 3);
  CHECK(null.scalar_type() == torch::kFloat32);
  const auto Xd = X.to(torch::kFloat64);
  const auto basis = std::get<0>(torch::linalg_qr((Xd - Xd.mean(0)).t()));  // [10, 5] spans the span
  const auto centred = null.to(torch::kFloat64) - Xd.mean(0);
  const auto outside = centred - centred.matmul(basis).matmul(basis.t());
  CHECK(outside.abs().max().item<double>() < 1e-5);
  CHECK_THROWS_AS(sa::gaussian_null(X.narrow(0, 0, 1), 10, 0), strata::InputError);
}

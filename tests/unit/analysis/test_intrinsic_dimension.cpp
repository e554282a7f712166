#include "core/analysis/id_estimators.h"
#include "core/analysis/intrinsic_dimension.h"

#include <cmath>

#include "core/analysis/neighbours.h"
#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/unit/analysis/analysis_fixtures.h"

namespace sa = strata::analysis;
namespace st = strata::analysis::test;

namespace {

// N points uniform on the unit sphere S^d ⊂ R^{d+1}, embedded in R^64 by a random isometry.
torch::Tensor sphere(std::int64_t d, std::int64_t n, std::uint64_t seed) {
  auto gen = st::generator(seed);
  auto Y = st::normal(n, d + 1, gen);
  Y = Y / Y.norm(2, 1, true);
  return Y.matmul(st::random_isometry(64, d + 1, gen).t());
}

// N points uniform in the unit cube [0, 1]^d, embedded in R^64 by a random isometry.
torch::Tensor cube(std::int64_t d, std::int64_t n, std::uint64_t seed) {
  auto gen = st::generator(seed);
  const auto Y = torch::rand({n, d}, gen, torch::kFloat64);
  return Y.matmul(st::random_isometry(64, d, gen).t());
}

}  // namespace

TEST_CASE("neighbour distances match a brute-force search", "[intrinsic]") {
  auto gen = st::generator(7);
  const auto X = st::normal(150, 5, gen);
  const auto got = sa::nearest_neighbour_distances(X, 4);
  auto all = torch::cdist(X, X, 2.0, /*compute_mode=*/2);  // explicit differences, no matmul
  all.diagonal().fill_(INFINITY);
  const auto expected = std::get<0>(all.topk(4, 1, /*largest=*/false));
  CHECK(torch::allclose(got, expected, 1e-12, 1e-12));
}

namespace {
// TwoNN and MLE (k = 20) on X, a sample of a d-dimensional manifold, within 15% of d.
void check_recovers(const torch::Tensor& X, std::int64_t d) {
  const double twonn = sa::twonn_dimension(X);
  const double mle = sa::mle_dimension(X, 20);
  INFO("d = " << d << ", TwoNN " << twonn << ", MLE " << mle);
  CHECK(std::abs(twonn - static_cast<double>(d)) <= 0.15 * static_cast<double>(d));
  CHECK(std::abs(mle - static_cast<double>(d)) <= 0.15 * static_cast<double>(d));
}
}  // namespace

TEST_CASE("TwoNN and MLE find the dimension of spheres S^2, S^5, S^10 in R^64 within 15%", "[intrinsic]") {
  for (const std::int64_t d : {2, 5, 10}) check_recovers(sphere(d, 2000, 100 + static_cast<std::uint64_t>(d)), d);
}

TEST_CASE("TwoNN and MLE on flat cubes of dimension 2 and 5", "[intrinsic]") {
  for (const std::int64_t d : {2, 5}) check_recovers(cube(d, 2000, 200 + static_cast<std::uint64_t>(d)), d);
}

TEST_CASE("duplicate points do not change the estimates", "[intrinsic]") {
  const auto X = sphere(3, 600, 9);
  const auto doubled = torch::cat({X, X.narrow(0, 0, 200)});
  CHECK_THAT(sa::twonn_dimension(doubled), Catch::Matchers::WithinRel(sa::twonn_dimension(X), 1e-12));
  CHECK_THAT(sa::mle_dimension(doubled, 10), Catch::Matchers::WithinRel(sa::mle_dimension(X, 10), 1e-12));
  CHECK(std::isfinite(sa::twonn_dimension(doubled)));
}

TEST_CASE("too few distinct points give NaN, not an error", "[intrinsic]") {
  CHECK(std::isnan(sa::twonn_dimension(torch::rand({2, 5}, torch::kFloat64))));
  CHECK(std::isnan(sa::twonn_dimension(torch::ones({50, 5}))));
  CHECK(std::isnan(sa::mle_dimension(torch::rand({20, 5}, torch::kFloat64), 20)));
  CHECK(std::isfinite(sa::mle_dimension(torch::rand({21, 5}, torch::kFloat64), 20)));
  CHECK_THROWS_AS(sa::mle_dimension(torch::rand({30, 5}), 1), strata::InputError);
}

TEST_CASE("stratum dimensions: one figure per stratum, NaN for strata too small", "[intrinsic]") {
  // Stratum 0: a 2-plane; stratum 1: one point; stratum 2: two points; stratum 3: empty;
  // stratum 4: five copies of one point.
  auto gen = st::generator(10);
  const auto plane = torch::cat({st::normal(300, 2, gen), torch::zeros({300, 6}, torch::kFloat64)}, 1);
  const auto few = st::normal(3, 8, gen);
  const auto copies = torch::ones({5, 8}, torch::kFloat64);
  const auto X = torch::cat({plane, few, copies});
  auto strata = torch::zeros({308}, torch::kInt64);
  strata[300] = 1;
  strata[301] = 2;
  strata[302] = 2;
  strata.narrow(0, 303, 5).fill_(4);
  sa::AnalysisSpec spec;
  spec.mle_k = 10;
  const auto res = sa::stratum_dimensions(X, strata, 5, spec);
  struct {
    std::vector<double> pca, twonn, mle;
    std::vector<std::int64_t> sizes;
  } dims{res.dims.at("pca"), res.dims.at("twonn"), res.dims.at("mle"), res.sizes};
  CHECK(dims.sizes == std::vector<std::int64_t>{300, 1, 2, 0, 5});
  CHECK(dims.pca[0] == 2.0);
  CHECK(std::abs(dims.twonn[0] - 2.0) < 0.3);
  CHECK(std::abs(dims.mle[0] - 2.0) < 0.3);
  CHECK(std::isnan(dims.pca[1]));
  CHECK(dims.pca[2] == 1.0);  // two distinct points span a line
  CHECK(std::isnan(dims.pca[3]));
  CHECK(dims.pca[4] == 0.0);  // identical points: no variance
  for (const std::size_t s : {1u, 2u, 3u, 4u}) {
    CHECK(std::isnan(dims.twonn[s]));
    CHECK(std::isnan(dims.mle[s]));
  }
}

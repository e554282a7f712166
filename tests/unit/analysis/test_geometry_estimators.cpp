// The geometry estimators on manifolds of known dimension, and their building blocks.
#include <cmath>

#include "core/analysis/geometry/correlation_dimension.h"
#include "core/analysis/geometry/knn.h"
#include "core/analysis/geometry/local_id.h"
#include "core/analysis/geometry/multiscale_id.h"
#include "core/analysis/geometry/ph0_dimension.h"
#include "core/analysis/geometry_spec.h"
#include "core/spec/document.h"
#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/unit/analysis/geometry_fixtures.h"

namespace sg = strata::analysis::geometry;
namespace st = strata::analysis::test;

namespace {

double median_of(const torch::Tensor& v) { return torch::nanquantile(v, 0.5).item<double>(); }

}  // namespace

TEST_CASE("knn gives brute-force neighbours with their indices, never the point itself", "[geometry]") {
  auto gen = st::generator(3);
  const auto X = st::normal(120, 6, gen);
  const auto nn = sg::knn(X, 5);
  auto all = torch::cdist(X, X, 2.0, /*compute_mode=*/2);
  all.diagonal().fill_(INFINITY);
  const auto [d, i] = all.topk(5, 1, /*largest=*/false);
  CHECK(torch::allclose(nn.distances, d, 1e-12, 1e-12));
  CHECK(torch::equal(nn.indices, i));
  const auto some = torch::tensor({7, 0, 119}, torch::kInt64);
  const auto q = sg::knn_of(X, some, 5);
  CHECK(torch::equal(q.indices, i.index_select(0, some)));
  const auto within = sg::knn_within(X, torch::stack({torch::arange(0, 60), torch::arange(60, 120)}), 3);
  CHECK(torch::allclose(within[1], sg::knn(X.narrow(0, 60, 60), 3).distances, 1e-12, 1e-12));
  CHECK_THROWS_AS(sg::knn(X, 120), strata::InputError);
}

TEST_CASE("distinct_points drops exact duplicates, keeps first rows and counts them", "[geometry]") {
  const auto X = torch::tensor({{1.0, 2.0}, {0.0, 0.0}, {1.0, 2.0}, {3.0, 1.0}, {0.0, 0.0}}, torch::kFloat32);
  const auto d = sg::distinct_points(X, torch::kCPU);
  CHECK(d.duplicates == 2);
  CHECK(torch::equal(d.rows, torch::tensor({0, 1, 3}, torch::kInt64)));
  CHECK(torch::equal(d.points, X.index_select(0, d.rows).to(torch::kFloat64)));
  auto bad = X.clone();
  bad[1][1] = NAN;
  CHECK_THROWS_AS(sg::distinct_points(bad, torch::kCPU), strata::InputError);
}

TEST_CASE("Gride and TwoNN decimation recover the dimension of S^3 at every scale", "[geometry]") {
  const auto X = st::sphere(3, 2000, 12, 5);
  const auto g = sg::gride_scaling(sg::knn(X, 64).distances, 64);
  REQUIRE(g.ranks.numel() == 6);
  INFO("gride ids " << g.id << " err " << g.err);
  // Curvature only enters at scales comparable to the radius; r_64 is about 0.35 here.
  CHECK(((g.id - 3).abs() < 0.3).all().item<bool>());
  CHECK((g.err > 0).all().item<bool>());
  CHECK((g.err < 0.15).all().item<bool>());
  CHECK((g.scale.diff() > 0).all().item<bool>());
  const auto plan = sg::decimation_plan(2000, 20, 9);
  const auto t = sg::twonn_scaling(X, plan);
  INFO("twonn decimation ids " << t.id << " sizes " << t.sizes);
  CHECK(torch::equal(t.sizes, torch::tensor({2000, 1000, 500, 250, 125, 62, 31}, torch::kInt64)));
  CHECK(torch::equal(t.count, torch::tensor({1, 2, 4, 8, 16, 32, 65}, torch::kInt64)));
  CHECK(((t.id - 3).abs() < 0.3).all().item<bool>());
  CHECK(t.std[0].item<double>() == 0.0);
  CHECK((t.scale.diff() > 0).all().item<bool>());
  // The full set's level read from a kNN already computed gives the same numbers (to rounding:
  // the batched search sums the same squares in another shape).
  const auto reused = sg::twonn_scaling(X, plan, sg::knn(X, 5).distances);
  CHECK(torch::allclose(reused.id, t.id, 1e-12, 0.0));
  CHECK(torch::allclose(reused.scale, t.scale, 1e-12, 0.0));
  CHECK(torch::equal(reused.id.narrow(0, 1, 6), t.id.narrow(0, 1, 6)));  // the decimated levels are untouched
}

TEST_CASE("decimation subsets are distinct, ascending and disjoint within a size wherever they fit", "[geometry]") {
  const auto plan = sg::decimation_plan(2000, 20, 9);
  for (std::size_t t = 0; t < plan.sizes.size(); ++t) {
    const auto& subsets = plan.subsets[t];
    const auto size = plan.sizes[t];
    const auto all = torch::cat(subsets);
    INFO("size " << size << ", subsets " << subsets.size());
    for (const auto& s : subsets) {
      CHECK(s.numel() == size);
      CHECK((s.diff() > 0).all().item<bool>());  // ascending, so distinct
    }
    // 65 subsets of 31 exceed 2000 points: the first 64 are disjoint, the last drawn on its own.
    const auto disjoint = std::min<std::int64_t>(static_cast<std::int64_t>(subsets.size()), 2000 / size);
    CHECK(std::get<0>(torch::_unique(all.narrow(0, 0, disjoint * size))).numel() == disjoint * size);
  }
  // Another seed, other subsets.
  CHECK(!torch::equal(sg::decimation_plan(2000, 20, 10).subsets[1][0], plan.subsets[1][0]));
}

TEST_CASE("the Gride likelihood's maximum is where its derivative vanishes", "[geometry]") {
  // Exact ratios of a d = 4 sample: μ = r_2n/r_n has density ∝ (μ^d − 1)^(n2−n1−1) μ^−(d n2 + 1).
  const auto X = st::sphere(4, 3000, 8, 2);
  const auto d = sg::knn(X, 8).distances;
  const auto mu = d.select(1, 7) / d.select(1, 3);
  std::int64_t dropped = -1;
  const double est = sg::gride_mle(mu, 4, 8, &dropped);
  INFO("gride n1 = 4 on S^4: " << est);
  CHECK(est == Catch::Approx(4.0).epsilon(0.1));
  CHECK(dropped >= 0);
  CHECK(sg::gride_error(mu, est, 4, 8) < 0.2);
}

TEST_CASE("local MLE and local TwoNN recover a curved manifold's dimension pointwise", "[geometry]") {
  const std::vector<std::int64_t> ks{10, 20, 40};
  for (const auto& [X, dim] : {std::pair{st::swiss_roll(2500, 4), 2.0}, {st::sphere(3, 2500, 10, 6), 3.0}}) {
    const auto nn = sg::knn(X, 40);
    const auto mle = sg::local_mle(nn.distances, ks);
    const auto twonn = sg::local_twonn(X, nn.indices, ks);
    for (std::size_t c = 0; c < ks.size(); ++c) {
      const auto j = static_cast<std::int64_t>(c);
      INFO("d = " << dim << " k = " << ks[c] << ": median MLE " << median_of(mle.select(1, j)) << ", TwoNN "
                  << median_of(twonn.select(1, j)));
      CHECK(std::abs(median_of(mle.select(1, j)) / dim - 1) < 0.15);
      CHECK(std::abs(median_of(twonn.select(1, j)) / dim - 1) < 0.15);
    }
    CHECK(torch::isfinite(mle).all().item<bool>());
    CHECK(torch::isfinite(twonn).all().item<bool>());
  }
}

TEST_CASE("group quartiles summarise each group and skip NaN", "[geometry]") {
  const auto v = torch::tensor({1.0, 2.0, 3.0, 4.0, 10.0, std::nan(""), 30.0}, torch::kFloat64).unsqueeze(1);
  const auto g = torch::tensor({0, 0, 0, 0, 1, 1, 1}, torch::kInt64);
  const auto q = sg::group_quartiles(v, g, 3);
  CHECK(q.median[0][0].item<double>() == Catch::Approx(2.5));
  CHECK(q.q25[0][0].item<double>() == Catch::Approx(1.75));
  CHECK(q.median[1][0].item<double>() == Catch::Approx(20.0));
  CHECK(std::isnan(q.median[2][0].item<double>()));  // an empty group
}

TEST_CASE("the correlation dimension finds a scaling range and the dimension in it", "[geometry]") {
  for (const auto& [X, dim] : {std::pair{st::sphere(2, 2000, 10, 7), 2.0}, {st::sphere(3, 2000, 10, 8), 3.0}}) {
    const auto c = sg::correlation_dimension(X, sg::knn(X, 1).distances.select(1, 0), 32, 0.15);
    INFO("d = " << dim << ": " << c.fit.dimension << " over [" << c.fit.r_lo << ", " << c.fit.r_hi << "], rms "
                << c.fit.residual << " " << c.fit.flag);
    REQUIRE(c.fit.flag.empty());
    CHECK(std::abs(c.fit.dimension / dim - 1) < 0.1);
    CHECK(c.fit.r_hi / c.fit.r_lo > 2);
    CHECK(c.fit.residual < 0.1);
    CHECK((c.integral.counts.diff() >= 0).all().item<bool>());
  }
}

TEST_CASE("the correlation dimension says when there is no scaling range", "[geometry]") {
  sg::CorrelationIntegral c{sg::log_radii(0.1, 10, 16), torch::zeros({16}, torch::kInt64), 50};
  const auto fit = sg::scaling_range(c, 0.15);
  CHECK(std::isnan(fit.dimension));
  CHECK_FALSE(fit.flag.empty());
}

TEST_CASE("the PH0 dimension recovers a known dimension from MST lengths", "[geometry]") {
  // The MST of a 4-cycle's corners: three unit edges.
  const auto square = torch::tensor({{0.0, 0.0}, {1.0, 0.0}, {1.0, 1.0}, {0.0, 1.0}}, torch::kFloat64);
  CHECK(sg::mst_length(sg::distance_matrix(square)) == Catch::Approx(3.0));
  for (const auto& [X, dim] : {std::pair{st::sphere(2, 2000, 10, 9), 2.0}, {st::sphere(3, 2000, 10, 10), 3.0}}) {
    const auto r = sg::ph0_dimension(X, sg::ph0_subsets(2000, {250, 500, 1000, 2000}, 2, 3));
    INFO("d = " << dim << ": PH0 " << r.dimension << " (slope " << r.slope << ", rms " << r.residual << ")");
    REQUIRE(r.flag.empty());
    CHECK(std::abs(r.dimension / dim - 1) < 0.1);
  }
  const auto few = sg::ph0_dimension(st::sphere(2, 100, 10, 1), sg::ph0_subsets(100, {50, 200}, 2, 3));
  CHECK(std::isnan(few.dimension));
  CHECK_FALSE(few.flag.empty());
}

TEST_CASE("GeometrySpec reads its table, checks values, and keeps 'on' out of ids", "[geometry]") {
  namespace sp = strata::spec;
  const auto r = sp::Reader::from_toml("[geometry]\non = true\nks = [5, 15]\nvolume_k_hi = 50\n", "sweep.toml");
  strata::analysis::GeometrySpec g;
  sp::read(g, r, "/geometry");
  CHECK(g.on);
  CHECK(g.ks == std::vector<std::int64_t>{5, 15});
  CHECK(g.volume_k_hi == 50);
  const auto id = sp::id_json(g);
  CHECK_FALSE(id.contains("on"));
  CHECK(id.contains("ks"));
  strata::analysis::GeometrySpec bad;
  CHECK_THROWS_AS(sp::read(bad, sp::Reader::from_toml("[geometry]\nks = [2]\n", "s.toml"), "/geometry"), strata::InputError);
  CHECK_THROWS_AS(sp::read(bad, sp::Reader::from_toml("[geometry]\nvolume_k_lo = 20\nvolume_k_hi = 22\n", "s.toml"), "/geometry"),
                  strata::InputError);
  CHECK_THROWS_AS(sp::read(bad, sp::Reader::from_toml("[geometry]\nseed = 3\n", "s.toml"), "/geometry"), strata::InputError);
}

TEST_CASE("estimators given duplicate points skip their zero distances and count them", "[geometry]") {
  auto X = st::sphere(2, 400, 6, 12);
  X = torch::cat({X, X.narrow(0, 0, 40)});  // 40 points with a twin at distance 0
  const auto nn = sg::knn(X, 8);
  const auto g = sg::gride_scaling(nn.distances, 8);
  CHECK(torch::isfinite(g.id).all().item<bool>());
  CHECK(g.discarded[0].item<std::int64_t>() >= 80);  // both twins of each pair have r_1 = 0
  const auto mle = sg::local_mle(nn.distances, {5});
  CHECK((torch::isnan(mle).sum().item<std::int64_t>() == 80));
  CHECK(std::isfinite(sg::twonn_linear(nn.distances.select(1, 1) / nn.distances.select(1, 0))));
}

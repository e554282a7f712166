// Persistent homology up to H1 on shapes whose topology is known: a circle has one loop dying
// where triangles first fill it (edge √3 r), two circles have two loops and an H0 bar as long as
// the gap between them, a flat torus has two, and a disc or a sphere has none; landmarks cover their set evenly.
#include <cmath>

#include "core/analysis/geometry/geometry.h"
#include "core/analysis/geometry/persistence.h"
#include "core/spec/document.h"
#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/unit/analysis/geometry_fixtures.h"

namespace sa = strata::analysis;
namespace sg = strata::analysis::geometry;
namespace st = strata::analysis::test;

namespace {

// n points evenly on a circle of radius r about c in the first two coordinates of R^L.
torch::Tensor circle(std::int64_t n, double r, double c, std::int64_t L) {
  const auto t = torch::arange(n, torch::kFloat64) * (2 * M_PI / static_cast<double>(n));
  auto X = torch::zeros({n, L}, torch::kFloat64);
  X.select(1, 0).copy_(c + r * t.cos());
  X.select(1, 1).copy_(r * t.sin());
  return X;
}

torch::Tensor lengths(const torch::Tensor& bars) { return bars.select(1, 1) - bars.select(1, 0); }

}  // namespace

TEST_CASE("persistence is refused with the reason where the build has no GUDHI", "[geometry][persistence]") {
  if (sg::persistence_available()) return;
  CHECK_THROWS_AS(sg::rips_persistence(torch::zeros({3, 3}, torch::kFloat64)), strata::InputError);
  sa::GeometrySpec g;
  CHECK_THROWS_AS(strata::spec::read(g, strata::spec::Reader::from_toml("[geometry]\npersistence = true\n", "s.toml"), "/geometry"),
                  strata::InputError);
}

TEST_CASE("a circle has one loop, born at its spacing and dying at the inscribed triangle's side", "[geometry][persistence]") {
  if (!sg::persistence_available()) return;
  const auto X = circle(90, 2.0, 0.0, 5);
  const auto d = sg::rips_persistence(sg::exact_distances(X));
  const double chord = 2 * 2.0 * std::sin(M_PI / 90);
  REQUIRE(d.h1.size(0) == 1);
  CHECK(d.h1[0][0].item<double>() == Catch::Approx(chord).epsilon(1e-9));
  // The loop fills once a triangle spans the circle: sides 2 r sin(π/3) up to the 90-gon's rounding.
  CHECK(d.h1[0][1].item<double>() == Catch::Approx(std::sqrt(3.0) * 2.0).epsilon(0.01));
  REQUIRE(d.h0.size(0) == 90);  // one class per point, all but one joining at the chord
  CHECK(std::isinf(d.h0[0][1].item<double>()));
  CHECK((d.h0.narrow(0, 1, 89).select(1, 1) - chord).abs().max().item<double>() < 1e-9);
}

TEST_CASE("two circles apart: two loops, and one H0 bar as long as the gap", "[geometry][persistence]") {
  if (!sg::persistence_available()) return;
  const auto X = torch::cat({circle(60, 1.0, 0.0, 4), circle(60, 1.0, 5.0, 4)});  // gap 3 between them
  const auto d = sg::rips_persistence(sg::exact_distances(X));
  REQUIRE(d.h1.size(0) >= 2);
  CHECK(lengths(d.h1)[1].item<double>() > 1.5);
  if (d.h1.size(0) > 2) CHECK(lengths(d.h1)[2].item<double>() < 0.1);
  CHECK(std::isinf(d.h0[0][1].item<double>()));
  CHECK(d.h0[1][1].item<double>() == Catch::Approx(3.0).epsilon(1e-9));
  CHECK(d.h0[2][1].item<double>() < 0.2);
}

TEST_CASE("farthest-point landmarks cover the set within their own separation", "[geometry][persistence]") {
  const auto X = st::swiss_roll(1500, 4);
  const auto L = sg::farthest_points(X, 100, 17);
  REQUIRE(L.numel() == 100);
  CHECK(L[0].item<std::int64_t>() == 17);
  CHECK(std::get<0>(torch::_unique(L)).numel() == 100);
  const auto chosen = X.index_select(0, L);
  const auto D = sg::exact_distances(chosen);
  const double separation = (D + torch::eye(100, torch::kFloat64) * 1e9).min().item<double>();
  const double cover = std::get<0>(torch::cdist(X, chosen, 2.0, /*compute_mode: no matrix product*/ 2).min(1)).max().item<double>();
  CHECK(cover <= separation * (1 + 1e-9));
  CHECK(sg::farthest_points(X.narrow(0, 0, 30), 100, 0).numel() == 30);  // a small set: all of it
}

TEST_CASE("per group, the geometry job counts a circle's loop, a torus's two and none on a disc or a sphere", "[geometry][persistence]") {
  if (!sg::persistence_available()) return;
  auto gen = st::generator(21);
  const auto t = torch::rand({400}, gen, torch::kFloat64) * 2 * M_PI;
  auto ring = torch::zeros({400, 8}, torch::kFloat64);
  ring.select(1, 0).copy_(t.cos());
  ring.select(1, 1).copy_(t.sin());
  ring.narrow(1, 2, 6).copy_(0.02 * torch::randn({400, 6}, gen, torch::kFloat64));
  const auto r = torch::rand({400}, gen, torch::kFloat64).sqrt(), a = torch::rand({400}, gen, torch::kFloat64) * 2 * M_PI;
  auto disc = torch::zeros({400, 8}, torch::kFloat64);
  disc.select(1, 2).copy_(10 + r * a.cos());
  disc.select(1, 3).copy_(r * a.sin());
  const auto u = torch::rand({600}, gen, torch::kFloat64) * 2 * M_PI, v = torch::rand({600}, gen, torch::kFloat64) * 2 * M_PI;
  auto torus = torch::zeros({600, 8}, torch::kFloat64);  // flat: two unit circles' product in R^4
  for (const auto& [c, angle] : {std::pair{0, u}, {2, v}}) {
    torus.select(1, 4 + c).copy_(angle.cos());
    torus.select(1, 5 + c).copy_(angle.sin());
  }
  torus.select(1, 0).fill_(20);
  auto ball = torch::zeros({400, 8}, torch::kFloat64);
  ball.narrow(1, 4, 3).copy_(st::sphere(2, 400, 3, 5));
  ball.select(1, 7).fill_(-10);
  const auto X = torch::cat({ring, disc, ball, torch::randn({5, 8}, gen, torch::kFloat64), torus});
  const auto groups = torch::cat({torch::full({400}, 4, torch::kInt64), torch::full({400}, 7, torch::kInt64),
                                  torch::full({400}, 9, torch::kInt64), torch::full({5}, 11, torch::kInt64),
                                  torch::full({600}, 12, torch::kInt64)});
  sa::GeometrySpec spec;
  spec.persistence = true;
  spec.persistence_landmarks = 100;
  const auto g = sa::embedding_geometry(X, groups, spec, torch::kCPU);
  const auto loops = g.tensors.at("persistence/loops");
  CHECK(loops[0].item<std::int64_t>() == 1);
  CHECK(loops[1].item<std::int64_t>() == 0);
  CHECK(loops[2].item<std::int64_t>() == 0);
  CHECK(loops[4].item<std::int64_t>() == 2);  // the flat torus: its two circles
  CHECK(g.tensors.at("persistence/h1_longest_rel")[0].item<double>() > 10);
  CHECK(std::isnan(g.tensors.at("persistence/spacing")[3].item<double>()));  // 5 points: flagged, not read
  CHECK_THAT(g.attrs.at("persistence/flag"), strata::test::HasSubstring("groups 3"));
  const auto count = g.tensors.at("persistence/landmark_count");
  CHECK(count.index({torch::indexing::Slice(0, 3)}).eq(100).all().item<bool>());
  CHECK(count[4].item<std::int64_t>() == 100);
  for (const auto& [name, _] : g.tensors)
    if (name.rfind("persistence/", 0) == 0) CHECK(g.doc.count(name) == 1);
  // Seeded: the same spec gives the same bars.
  const auto again = sa::embedding_geometry(X, groups, spec, torch::kCPU);
  CHECK(torch::equal(again.tensors.at("persistence/h1"), g.tensors.at("persistence/h1")));
  spec.persistence = false;
  CHECK(sa::embedding_geometry(X, groups, spec, torch::kCPU).tensors.count("persistence/h1") == 0);
}

// The geometry readouts on unions of pieces of different dimension: each piece's local
// dimension away from where they meet, the meeting place itself (boundary, volume growth), and
// the entry point's results (documented, finite, flagged when uninformative).
#include <cmath>
#include <set>

#include "core/analysis/geometry/boundary.h"
#include "core/analysis/geometry/geometry.h"
#include "core/analysis/geometry/knn.h"
#include "core/analysis/geometry/local_id.h"
#include "core/analysis/geometry/volume_growth.h"
#include "tests/catch.hpp"
#include "tests/unit/analysis/geometry_fixtures.h"

namespace sa = strata::analysis;
namespace sg = strata::analysis::geometry;
namespace st = strata::analysis::test;

namespace {

double median_of(const torch::Tensor& v) { return torch::nanquantile(v, 0.5).item<double>(); }
double share(const torch::Tensor& mask) { return mask.to(torch::kFloat64).mean().item<double>(); }

}  // namespace

TEST_CASE("pointwise local ID recovers each piece's dimension away from where a plane meets a 5-D piece", "[geometry]") {
  const auto s = st::plane_and_five(1500, 1500, 0.15, 1);
  const std::vector<std::int64_t> ks{10, 20, 40};
  const auto nn = sg::knn(s.X, 40);
  const auto mle = sg::local_mle(nn.distances, ks), twonn = sg::local_twonn(s.X, nn.indices, ks);
  // Away: beyond the reach of the other piece's points at k = 40.
  const auto plane = (s.labels == 0) & (s.near > 0.4), five = (s.labels == 1) & (s.near > 0.25);
  for (std::size_t c = 0; c < ks.size(); ++c) {
    const auto j = static_cast<std::int64_t>(c);
    const double m2 = median_of(mle.select(1, j).index({plane})), m5 = median_of(mle.select(1, j).index({five}));
    const double t2 = median_of(twonn.select(1, j).index({plane})), t5 = median_of(twonn.select(1, j).index({five}));
    INFO("k = " << ks[c] << ": MLE plane " << m2 << ", 5-D " << m5 << "; TwoNN plane " << t2 << ", 5-D " << t5);
    CHECK(std::abs(m2 / 2 - 1) < 0.15);
    CHECK(std::abs(m5 / 5 - 1) < 0.15);
    CHECK(std::abs(t2 / 2 - 1) < 0.15);
    CHECK(std::abs(t5 / 5 - 1) < 0.15);
  }
}

TEST_CASE("the boundary detector finds where the pieces meet", "[geometry]") {
  SECTION("a plane crossing a 5-D piece at the origin") {
    const auto s = st::plane_and_five(1500, 1500, 0.15, 2);
    const auto nn = sg::knn(s.X, 20);
    const auto b = sg::boundary(nn.indices, s.labels, sg::local_mle(nn.distances, {20}).select(1, 0), 20, 0.1, 2.0);
    const auto near = s.near.index({b.flagged}) < 0.3;
    const auto plane_near = (s.labels == 0) & (s.near < 0.1);
    INFO(b.flagged.numel() << " flagged, " << share(near) << " of them within 0.3 of the origin; "
                           << share(b.mixing.index({plane_near}) >= 0.1) << " of the plane's points within 0.1 mixed");
    CHECK(b.flagged.numel() >= 15);
    CHECK(share(near) >= 0.9);
    CHECK(share(b.mixing.index({plane_near}) >= 0.1) >= 0.25);
  }
  SECTION("a sphere meeting a disc along its equator") {
    const auto s = st::sphere_and_plane(2000, 2000, 3);
    const auto nn = sg::knn(s.X, 20);
    const auto b = sg::boundary(nn.indices, s.labels, sg::local_mle(nn.distances, {20}).select(1, 0), 20, 0.1, 2.0);
    const auto near = s.near.index({b.flagged}) < 0.25;  // about the neighbourhoods' radius at k = 20
    INFO(b.flagged.numel() << " flagged, " << share(near) << " of them within 0.25 of the equator");
    CHECK(b.flagged.numel() >= 50);
    CHECK(share(near) >= 0.8);
    // Both pieces are 2-D: the local ID criterion flags (almost) nothing by itself.
    CHECK(share((b.id_ratio >= 2) | (b.id_ratio <= 0.5)) < 0.02);
  }
}

TEST_CASE("volume growth shows the slope change where a plane meets a 5-D piece", "[geometry]") {
  const auto s = st::plane_and_five(1500, 1500, 0.15, 4);
  // A point right at the crossing sees both pieces from the smallest radius on; the rise shows
  // for points a little away from it, whose balls reach the 5-D piece only at larger r.
  const auto plane_near = ((s.labels == 0) & (s.near > 0.05) & (s.near < 0.2)).nonzero().flatten();
  const auto plane_far = ((s.labels == 0) & (s.near > 0.5)).nonzero().flatten().narrow(0, 0, 200);
  const auto five_far = ((s.labels == 1) & (s.near > 0.25)).nonzero().flatten().narrow(0, 0, 200);
  const sg::VolumeOptions o;  // ranks 10 .. 200, rise 2, F 10
  const auto near = sg::volume_growth(s.X, plane_near, o), far = sg::volume_growth(s.X, plane_far, o);
  const auto five = sg::volume_growth(s.X, five_far, o);
  INFO("violations: plane near the origin " << share(near.violates) << " (" << plane_near.numel() << " points), far "
                                            << share(far.violates) << ", 5-D far " << share(five.violates)
                                            << "; slopes far: plane " << median_of(far.slope) << ", 5-D " << median_of(five.slope)
                                            << "; near: small " << median_of(near.slope_small) << " large " << median_of(near.slope_large));
  CHECK(share(near.violates) >= 0.4);
  CHECK(share(far.violates) <= 0.1);
  CHECK(share(five.violates) <= 0.1);
  CHECK(median_of(near.slope_large) > 1.8 * median_of(near.slope_small));
  CHECK(std::abs(median_of(far.slope) / 2 - 1) < 0.15);
  CHECK(std::abs(median_of(five.slope) / 5 - 1) < 0.15);
}

TEST_CASE("volume growth fits power laws exactly and flags only a rising slope", "[geometry]") {
  const auto x = torch::linspace(0, 2, 17, torch::kFloat64).unsqueeze(0);  // the kink at a grid point
  const auto kink = torch::where(x < 1, 2 * x, 2 + 5 * (x - 1));  // slope 2, then 5
  const auto fall = torch::where(x < 1, 5 * x, 5 + 2 * (x - 1));  // slope 5, then 2
  const auto v = sg::fit_volume_curves(torch::cat({x, x, x}), torch::cat({3 * x, kink, fall}), 2.0, 10.0);
  CHECK(v.slope[0].item<double>() == Catch::Approx(3.0));
  CHECK(v.f[0].item<double>() < 1e-6);  // two segments cannot beat an exact line
  CHECK(v.slope_small[1].item<double>() == Catch::Approx(2.0));
  CHECK(v.slope_large[1].item<double>() == Catch::Approx(5.0));
  CHECK(torch::equal(v.violates, torch::tensor({0, 1, 0}, torch::kInt64)));
}

TEST_CASE("embedding_geometry documents, bounds and flags its results", "[geometry]") {
  const auto s = st::plane_and_five(1200, 1200, 0.15, 5);
  sa::GeometrySpec spec;
  spec.ph0_sizes = {250, 500, 1000};
  spec.ph0_repeats = 2;
  spec.volume_points = 100;
  const auto r = sa::embedding_geometry(s.X.to(torch::kFloat32), s.labels * 10 + 3, spec, torch::kCPU);
  std::set<std::string> names;
  for (const auto& [k, v] : r.tensors) names.insert(k);
  for (const auto& [k, v] : r.numbers) names.insert(k);
  for (const auto& [k, v] : r.attrs) names.insert(k);
  for (const auto& n : names) {
    INFO(n);
    CHECK(r.doc.count(n) == 1);
  }
  for (const auto& [k, t] : r.tensors) {
    INFO(k);
    CHECK(t.device().is_cpu());
    CHECK((t.scalar_type() == torch::kFloat64 || t.scalar_type() == torch::kInt64));
    CHECK(torch::isfinite(t.to(torch::kFloat64)).all().item<bool>());
  }
  CHECK(r.attrs.empty());
  CHECK(torch::equal(r.tensors.at("groups/values"), torch::tensor({3, 13}, torch::kInt64)));
  const auto medians = r.tensors.at("local_id/by_group/mle/median");  // [group, k]
  INFO("per-group median local MLE " << medians);
  CHECK(medians.sizes() == std::vector<std::int64_t>{2, 3});
  CHECK(medians[0][1].item<double>() == Catch::Approx(2.0).epsilon(0.15));
  CHECK(medians[1][1].item<double>() == Catch::Approx(5.0).epsilon(0.2));  // the crossing included
  CHECK(r.numbers.at("boundary/flagged_share") < 0.2);
  CHECK(r.numbers.at("overlap/label") > 0.9);
  CHECK(r.numbers.at("points/analysed") == 2400);
}

TEST_CASE("duplicate rows never give NaN or inf, and too few points give a flag", "[geometry]") {
  auto X = st::sphere(2, 600, 10, 11).to(torch::kFloat32);
  // A third of the rows repeated, and 40 copies of one point (fp32 text embeddings do this).
  X = torch::cat({X, X.narrow(0, 0, 200), X.narrow(0, 5, 1).expand({40, 10})});
  sa::GeometrySpec spec;
  spec.ph0_sizes = {100, 200, 400};
  const auto r = sa::embedding_geometry(X, {}, spec, torch::kCPU);
  CHECK(r.numbers.at("points/duplicates") == 240);
  CHECK(r.numbers.at("points/analysed") == 600);
  CHECK(r.attrs.count("points/flag") == 1);
  CHECK(r.attrs.count("boundary/flag") == 1);  // no groups: only the local-ID criterion
  for (const auto& [k, t] : r.tensors) {
    INFO(k);
    CHECK(torch::isfinite(t.to(torch::kFloat64)).all().item<bool>());
  }
  for (const auto& [k, v] : r.numbers) {
    INFO(k);
    CHECK(std::isfinite(v));
  }
  const auto same = sa::embedding_geometry(torch::ones({50, 4}), {}, spec, torch::kCPU);
  CHECK(same.attrs.count("geometry/flag") == 1);
  CHECK(same.numbers.at("points/analysed") == 1);
  const auto few = sa::embedding_geometry(st::sphere(2, 30, 5, 1), {}, spec, torch::kCPU);
  CHECK(few.attrs.count("ph0/flag") == 1);
  CHECK(few.attrs.count("local_id/flag") == 1);  // ks 40 exceeds the 29 neighbours
  for (const auto& [k, v] : few.numbers)
    if (!std::isfinite(v)) {
      INFO(k);
      CHECK(few.attrs.count(k.substr(0, k.find('/')) + "/flag") == 1);
    }
}

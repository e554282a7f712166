// embedding_geometry on CUDA (fp32 selection of neighbours, float64 distances and reductions)
// against the same call on the CPU (float64 throughout). Runs only where a CUDA device is present.
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "core/analysis/geometry/geometry.h"
#include "tests/catch.hpp"
#include "tests/unit/analysis/geometry_fixtures.h"

namespace sa = strata::analysis;
namespace st = strata::analysis::test;

namespace {

// How far a readout may move between the devices: neighbour-based ones not at all beyond
// rounding (the neighbours are the same, their distances float64 on both); the correlation
// counts and MST lengths use every pair's fp32 distance on CUDA, so a pair near a radius may
// fall either side of it.
double relative(const std::string& name) {
  if (name.rfind("ph0/", 0) == 0) return 1e-5;
  if (name == "correlation/counts") return 1e-3;
  return 1e-9;
}
double absolute(const std::string& name) { return name == "correlation/counts" ? 8.0 : 0.0; }

}  // namespace

TEST_CASE("gpu geometry: CUDA gives the CPU's readouts") {
  const auto s = st::plane_and_five(2000, 2000, 0.15, 1);
  auto X = s.X.to(torch::kFloat32);
  X = torch::cat({X, X.narrow(0, 0, 300)});  // duplicates, as fp32 text embeddings have
  const auto groups = torch::cat({s.labels, s.labels.narrow(0, 0, 300)});
  sa::GeometrySpec spec;
  const auto cpu = sa::embedding_geometry(X, groups, spec, torch::kCPU);
  const auto gpu = sa::embedding_geometry(X.cuda(), groups.cuda(), spec, torch::kCUDA);
  CHECK(gpu.attrs == cpu.attrs);
  for (const auto& [name, v] : cpu.numbers) {
    INFO(name << ": cpu " << v << ", cuda " << gpu.numbers.at(name));
    CHECK(std::abs(gpu.numbers.at(name) - v) <= relative(name) * std::max(1.0, std::abs(v)));
  }
  for (const auto& [name, t] : cpu.tensors) {
    const auto& u = gpu.tensors.at(name);
    INFO(name);
    REQUIRE(u.sizes() == t.sizes());
    CHECK(u.device().is_cpu());
    CHECK(torch::isfinite(u.to(torch::kFloat64)).all().item<bool>());
    const auto a = t.to(torch::kFloat64), b = u.to(torch::kFloat64);
    CHECK(((a - b).abs() <= relative(name) * a.abs().clamp_min(1.0) + absolute(name)).all().item<bool>());
  }
}

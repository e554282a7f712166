#pragma once
// Stratified point sets with known pieces, for the geometry tests; every one is seeded.
#include <torch/torch.h>

#include <cmath>
#include <cstdint>

#include "tests/unit/analysis/analysis_fixtures.h"

namespace strata::analysis::test {

struct Strata {
  torch::Tensor X;       // [n, L] float64
  torch::Tensor labels;  // [n] int64: the piece of each point
  torch::Tensor near;    // [n] float64: distance to where the pieces meet
};

// A uniform unit disc (2-D, label 0) and a 5-D Gaussian (σ, label 1) in orthogonal subspaces
// of R^20, crossing at the origin; the 5-D piece is densest where they cross.
inline Strata plane_and_five(std::int64_t n2, std::int64_t n5, double sigma, std::uint64_t seed) {
  auto gen = generator(seed);
  const auto Q = random_isometry(20, 7, gen);
  const auto r = torch::rand({n2}, gen, torch::kFloat64).sqrt();
  const auto t = torch::rand({n2}, gen, torch::kFloat64) * 2 * M_PI;
  const auto disc = torch::stack({r * t.cos(), r * t.sin()}, 1);
  const auto five = sigma * normal(n5, 5, gen);
  const auto X = torch::cat({disc.matmul(Q.narrow(1, 0, 2).t()), five.matmul(Q.narrow(1, 2, 5).t())});
  const auto labels = torch::cat({torch::zeros({n2}, torch::kInt64), torch::ones({n5}, torch::kInt64)});
  return {X, labels, X.norm(2, 1)};
}

// The unit sphere S^2 (label 0) and a disc of radius 1.6 through its centre (label 1), meeting
// along the equator, embedded in R^10.
inline Strata sphere_and_plane(std::int64_t ns, std::int64_t np, std::uint64_t seed) {
  auto gen = generator(seed);
  auto S = normal(ns, 3, gen);
  S = S / S.norm(2, 1, true);
  const auto r = 1.6 * torch::rand({np}, gen, torch::kFloat64).sqrt();
  const auto t = torch::rand({np}, gen, torch::kFloat64) * 2 * M_PI;
  const auto P = torch::stack({r * t.cos(), r * t.sin(), torch::zeros_like(r)}, 1);
  const auto Y = torch::cat({S, P});
  const auto labels = torch::cat({torch::zeros({ns}, torch::kInt64), torch::ones({np}, torch::kInt64)});
  // To the equator: |z| on the sphere (exactly its chord-free height), | |p| − 1 | on the disc.
  const auto near = torch::cat({S.select(1, 2).abs(), (r - 1).abs()});
  return {Y.matmul(random_isometry(10, 3, gen).t()), labels, near};
}

// A Swiss roll (2-D, curved) embedded in R^10.
inline torch::Tensor swiss_roll(std::int64_t n, std::uint64_t seed) {
  auto gen = generator(seed);
  const auto t = 1.5 * M_PI * (1 + 2 * torch::rand({n}, gen, torch::kFloat64));
  const auto h = 10 * torch::rand({n}, gen, torch::kFloat64);
  const auto Y = torch::stack({t * t.cos(), h, t * t.sin()}, 1);
  return Y.matmul(random_isometry(10, 3, gen).t());
}

// The unit sphere S^d ⊂ R^{d+1} (curved, no boundary) embedded in R^L.
inline torch::Tensor sphere(std::int64_t d, std::int64_t n, std::int64_t L, std::uint64_t seed) {
  auto gen = generator(seed);
  auto Y = normal(n, d + 1, gen);
  Y = Y / Y.norm(2, 1, true);
  return Y.matmul(random_isometry(L, d + 1, gen).t());
}

}  // namespace strata::analysis::test

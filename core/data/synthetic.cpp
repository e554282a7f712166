#include "core/data/synthetic.h"

#include <cmath>
#include <numbers>

#include "core/util/error.h"

namespace strata {

namespace {

// Each stratum draws from its own generator so that editing one stratum leaves the others.
at::Generator stratum_generator(std::uint64_t seed, std::size_t index) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (index + 1);  // splitmix64 step
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return at::make_generator<at::CPUGeneratorImpl>(z ^ (z >> 31));
}

torch::Tensor chart_points(const SyntheticStratum& s, at::Generator& gen) {
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  const std::int64_t n = s.points, d = s.dim;
  if (s.kind == "linear") return (at::rand({n, d}, gen, opts) * 2 - 1) * s.scale;
  if (s.kind == "sphere") {
    auto g = at::randn({n, d + 1}, gen, opts);
    return g / g.norm(2, 1, true) * s.scale;
  }
  // torus: each angle uniform, coordinates (cos, sin) per angle: flat, intrinsic dimension d
  auto theta = at::rand({n, d}, gen, opts) * (2 * std::numbers::pi);
  return torch::cat({theta.cos(), theta.sin()}, 1) * s.scale;
}

// A random L x c matrix with orthonormal columns.
torch::Tensor random_isometry(std::int64_t L, std::int64_t c, at::Generator& gen) {
  auto g = at::randn({L, c}, gen, torch::TensorOptions().dtype(torch::kFloat64));
  auto qr = torch::linalg_qr(g);
  auto q = std::get<0>(qr);
  // Fix QR's sign ambiguity so the result does not depend on the LAPACK build.
  auto signs = torch::sign(torch::diagonal(std::get<1>(qr)));
  signs = torch::where(signs == 0, torch::ones_like(signs), signs);
  return q * signs.unsqueeze(0);
}

}  // namespace

std::int64_t chart_dimension(const SyntheticStratum& s) {
  if (s.kind == "sphere") return s.dim + 1;
  if (s.kind == "torus") return 2 * s.dim;
  return s.dim;
}

void validate(const SyntheticSpec& spec) {
  if (spec.ambient_dim < 1) fail_input("synthetic: dim must be at least 1");
  if (spec.strata.empty()) fail_input("synthetic: at least one stratum is needed");
  if (spec.noise < 0) fail_input("synthetic: noise must be >= 0");
  for (const auto& s : spec.strata) {
    if (s.kind != "linear" && s.kind != "sphere" && s.kind != "torus")
      fail_input("synthetic stratum '{}': kind '{}' is not one of linear, sphere, torus", s.name, s.kind);
    if (s.dim < 1) fail_input("synthetic stratum '{}': dim must be at least 1", s.name);
    if (s.points < 1) fail_input("synthetic stratum '{}': points must be at least 1", s.name);
    if (chart_dimension(s) > spec.ambient_dim)
      fail_input("synthetic stratum '{}': a {} of dimension {} needs {} ambient dimensions but the space has {}",
                 s.name, s.kind, s.dim, chart_dimension(s), spec.ambient_dim);
  }
}

SyntheticData generate_synthetic(const SyntheticSpec& spec) {
  validate(spec);
  SyntheticData out;
  std::vector<torch::Tensor> blocks;
  std::vector<torch::Tensor> truth;
  for (std::size_t k = 0; k < spec.strata.size(); ++k) {
    const auto& s = spec.strata[k];
    auto gen = stratum_generator(spec.seed, k);
    auto chart = chart_points(s, gen);
    auto Q = random_isometry(spec.ambient_dim, chart.size(1), gen);
    auto direction = at::randn({spec.ambient_dim}, gen, torch::TensorOptions().dtype(torch::kFloat64));
    direction = direction / direction.norm();
    const double sigma = s.noise >= 0 ? s.noise : spec.noise;
    auto noise = at::randn({s.points, spec.ambient_dim}, gen, torch::TensorOptions().dtype(torch::kFloat64));
    blocks.push_back(chart.matmul(Q.t()) + direction * s.offset + noise * sigma);
    truth.push_back(torch::full({s.points}, static_cast<std::int64_t>(k), torch::kInt64));
    for (std::int64_t i = 0; i < s.points; ++i)
      out.corpus.push_back("", s.name, static_cast<std::int64_t>(k), s.name + ":" + std::to_string(i));
  }
  out.points = torch::cat(blocks, 0).to(torch::kFloat32).contiguous();
  out.truth = torch::cat(truth, 0);
  return out;
}

}  // namespace strata

#include "core/data/synthetic.h"

#include <cmath>
#include <numbers>

#include <set>

#include "core/spec/fields.h"
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
  // The schema's own checks, so a spec built in code meets the rules a sweep file meets.
  (void)spec::from_json<SyntheticSpec>(spec::to_json(spec), "synthetic");
}

const spec::Schema<SyntheticStratum>& SyntheticStratum::schema() {
  using S = SyntheticStratum;
  static const auto sc = [] {
    spec::Schema<S> s("corpus.synthetic.stratum", "One stratum of a synthetic space.");
    s.add(spec::field(&S::name, "name", "the stratum's name (its rows' source)", {}, spec::kRequired | spec::kNonEmpty))
        .add(spec::field(&S::kind, "kind", "linear: uniform in [-scale, scale]^dim; sphere: S^dim of radius scale; "
                                           "torus: flat T^dim in R^(2 dim)", spec::one_of({"linear", "sphere", "torus"})))
        .add(spec::field(&S::dim, "dim", "intrinsic dimension", spec::range(1, 1 << 20)))
        .add(spec::field(&S::points, "points", "number of points", spec::range(1, 1 << 26)))
        .add(spec::field(&S::scale, "scale", "size of the chart", spec::above(0, 1e9)))
        .add(spec::field(&S::offset, "offset", "distance of the stratum's centre from the origin, random direction",
                         spec::range(0, 1e9)))
        .add(spec::field(&S::noise, "noise", "this stratum's noise; negative: the space's", spec::range(-1, 1e6)));
    return s;
  }();
  return sc;
}

const spec::Schema<SyntheticSpec>& SyntheticSpec::schema() {
  using S = SyntheticSpec;
  static const auto sc = [] {
    spec::Schema<S> s("corpus.synthetic", "A synthetic stratified space with known dimensions (ground truth).");
    s.add(spec::field(&S::ambient_dim, "dim", "ambient dimension L", spec::range(1, 1 << 20)))
        .add(spec::field(&S::noise, "noise", "isotropic Gaussian noise (standard deviation) in every ambient dimension",
                         spec::range(0, 1e6)))
        .add(spec::field(&S::strata, "stratum", "the strata, as [[corpus.synthetic.stratum]] tables", {}, spec::kNonEmpty))
        .add(spec::field(&S::seed, "seed", "from [experiment] seed", {}, spec::kInternal));
    s.check([](const S& v, const spec::Reader& r, const std::string& where) {
      if (v.strata.empty()) r.fail(where, "corpus.synthetic needs at least one [[corpus.synthetic.stratum]]");
      std::set<std::string> names;
      for (std::size_t i = 0; i < v.strata.size(); ++i) {
        const auto& st = v.strata[i];
        const std::string at = spec::Reader::child(spec::Reader::child(where, "stratum"), std::to_string(i));
        if (!names.insert(st.name).second) r.fail(at, "stratum name '{}' is used twice", st.name);
        if (chart_dimension(st) > v.ambient_dim)
          r.fail(at, "stratum '{}': a {} of dimension {} needs {} ambient dimensions but corpus.synthetic.dim = {}",
                 st.name, st.kind, st.dim, chart_dimension(st), v.ambient_dim);
      }
    });
    return s;
  }();
  return sc;
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

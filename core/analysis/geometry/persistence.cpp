#include "core/analysis/geometry/persistence.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "core/analysis/geometry_spec.h"
#include "core/util/error.h"

#ifdef STRATA_WITH_GUDHI
#include <gudhi/Persistent_cohomology.h>
#include <gudhi/Rips_complex.h>
#include <gudhi/Simplex_tree.h>
#endif

namespace strata::analysis::geometry {

#ifdef STRATA_WITH_GUDHI

namespace {

using Bars = std::vector<std::pair<double, double>>;

// Longest first, then by birth: a fixed order whatever order the algorithm found them in.
torch::Tensor bar_tensor(Bars bars) {
  std::sort(bars.begin(), bars.end(), [](const auto& a, const auto& b) {
    const double la = a.second - a.first, lb = b.second - b.first;
    return la != lb ? la > lb : a.first < b.first;
  });
  auto t = torch::empty({static_cast<std::int64_t>(bars.size()), 2}, torch::kFloat64);
  auto acc = t.accessor<double, 2>();
  for (std::int64_t i = 0; i < t.size(0); ++i) {
    acc[i][0] = bars[static_cast<std::size_t>(i)].first;
    acc[i][1] = bars[static_cast<std::size_t>(i)].second;
  }
  return t;
}

}  // namespace

bool persistence_available() { return true; }

Diagram rips_persistence(const torch::Tensor& D_in) {
  using Tree = Gudhi::Simplex_tree<Gudhi::Simplex_tree_options_full_featured>;
  using Rips = Gudhi::rips_complex::Rips_complex<double>;
  using Cohomology = Gudhi::persistent_cohomology::Persistent_cohomology<Tree, Gudhi::persistent_cohomology::Field_Zp>;
  const auto D = D_in.to(torch::kCPU, torch::kFloat64).contiguous();
  if (D.dim() != 2 || D.size(0) != D.size(1)) fail_input("persistence: expected a square distance matrix");
  const auto m = D.size(0);
  const auto acc = D.accessor<double, 2>();
  std::vector<std::vector<double>> rows(static_cast<std::size_t>(m));
  for (std::int64_t i = 0; i < m; ++i) rows[static_cast<std::size_t>(i)].assign(&acc[i][0], &acc[i][0] + i);  // below the diagonal
  Tree tree;
  Rips(rows, std::numeric_limits<double>::infinity()).create_complex(tree, 2);
  Cohomology cohomology(tree);
  cohomology.init_coefficients(2);
  cohomology.compute_persistent_cohomology(0.0);
  // Bars of zero length (a triangle entering with its last edge) carry no information.
  const auto bars = [&](int dim) {
    Bars out;
    for (const auto& [b, d] : cohomology.intervals_in_dimension(dim))
      if (d > b) out.emplace_back(b, d);
    return bar_tensor(std::move(out));
  };
  return {bars(0), bars(1)};
}

#else

bool persistence_available() { return false; }

Diagram rips_persistence(const torch::Tensor&) {
  fail_input("persistence: this build of strata has no GUDHI (install libgudhi-dev and rebuild)");
}

#endif

torch::Tensor farthest_points(const torch::Tensor& X, std::int64_t m, std::int64_t first) {
  const auto n = X.size(0);
  if (first < 0 || first >= n) fail_input("farthest points: start {} outside {} points", first, n);
  m = std::min(m, n);
  std::vector<std::int64_t> chosen{first};
  auto nearest = (X - X[first]).pow(2).sum(1);  // squared distance to the nearest landmark so far
  while (static_cast<std::int64_t>(chosen.size()) < m) {
    const auto next = nearest.argmax().item<std::int64_t>();
    chosen.push_back(next);
    nearest = torch::minimum(nearest, (X - X[next]).pow(2).sum(1));
  }
  return torch::tensor(chosen, torch::kInt64);
}

torch::Tensor exact_distances(const torch::Tensor& X_in) {
  const auto X = X_in.to(torch::kCPU, torch::kFloat64).contiguous();
  const auto m = X.size(0);
  auto D = torch::zeros({m, m}, torch::kFloat64);
  for (std::int64_t i = 0; i < m; ++i) D[i] = (X - X[i]).pow(2).sum(1).sqrt();
  return (D + D.t()) / 2;  // exactly symmetric whatever the summation order
}

}  // namespace strata::analysis::geometry

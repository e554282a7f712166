#include "core/analysis/geometry/ph0_dimension.h"

#include <limits>

#include "core/analysis/geometry/knn.h"
#include "core/util/error.h"

namespace strata::analysis::geometry {

double mst_length(const torch::Tensor& D_in) {
  const auto D = D_in.to(torch::kCPU, torch::kFloat64).contiguous();
  const auto n = D.size(0);
  if (n < 2) return 0.0;
  const double* d = D.data_ptr<double>();
  std::vector<double> best(static_cast<std::size_t>(n), std::numeric_limits<double>::infinity());
  std::vector<char> in_tree(static_cast<std::size_t>(n), 0);
  best[0] = 0;
  double total = 0;
  for (std::int64_t step = 0; step < n; ++step) {
    std::int64_t u = -1;
    for (std::int64_t v = 0; v < n; ++v)
      if (!in_tree[static_cast<std::size_t>(v)] && (u < 0 || best[static_cast<std::size_t>(v)] < best[static_cast<std::size_t>(u)])) u = v;
    in_tree[static_cast<std::size_t>(u)] = 1;
    total += best[static_cast<std::size_t>(u)];
    const double* row = d + u * n;
    for (std::int64_t v = 0; v < n; ++v)
      if (!in_tree[static_cast<std::size_t>(v)] && row[v] < best[static_cast<std::size_t>(v)]) best[static_cast<std::size_t>(v)] = row[v];
  }
  return total;
}

std::vector<std::vector<torch::Tensor>> ph0_subsets(std::int64_t n, const std::vector<std::int64_t>& sizes,
                                                    std::int64_t repeats, std::uint64_t seed) {
  std::vector<std::vector<torch::Tensor>> out;
  for (std::size_t s = 0; s < sizes.size(); ++s) {
    if (sizes[s] > n) continue;
    std::vector<torch::Tensor> draws;
    for (std::int64_t r = 0; r < repeats; ++r)
      draws.push_back(seeded_subset(n, sizes[s], seed + 15485863 * (s + 1) + static_cast<std::uint64_t>(r)));
    out.push_back(std::move(draws));
  }
  return out;
}

Ph0Dimension ph0_dimension(const torch::Tensor& X, const std::vector<std::vector<torch::Tensor>>& subsets) {
  Ph0Dimension out;
  const auto P = static_cast<std::int64_t>(subsets.size());
  const auto repeats = P > 0 ? static_cast<std::int64_t>(subsets[0].size()) : 0;
  out.sizes = torch::empty({P}, torch::kInt64);
  out.lengths = torch::empty({P, repeats}, torch::kFloat64);
  for (std::int64_t p = 0; p < P; ++p) {
    const auto& draws = subsets[static_cast<std::size_t>(p)];
    out.sizes[p] = draws[0].numel();
    for (std::int64_t r = 0; r < repeats; ++r)
      out.lengths[p][r] = mst_length(distance_matrix(X.index_select(0, draws[static_cast<std::size_t>(r)].to(X.device()))));
  }
  if (P < 2) {
    out.flag = fmt::format("too few sizes: {} of the PH0 sizes fit in the points (2 needed)", P);
    return out;
  }
  const auto fit = fit_line(out.sizes.to(torch::kFloat64).log().unsqueeze(1).expand({P, repeats}).flatten(),
                            out.lengths.log().flatten());
  out.slope = fit.slope;
  out.residual = fit.rms;
  if (fit.slope >= 1 || !(fit.slope > 0)) {
    out.flag = fmt::format("no dimension: log L grows with slope {:.3g} in log n (a dimension needs 0 < slope < 1)", fit.slope);
    return out;
  }
  out.dimension = 1.0 / (1.0 - fit.slope);
  return out;
}

}  // namespace strata::analysis::geometry

#include "core/analysis/geometry/boundary.h"

#include "core/analysis/geometry/neighbourhood_overlap.h"

namespace strata::analysis::geometry {

Boundary boundary(const torch::Tensor& indices, const torch::Tensor& groups_in, const torch::Tensor& local_id,
                  std::int64_t k, double mixing_min, double id_factor) {
  const auto n = indices.size(0);
  const auto groups = groups_in.defined() ? groups_in.to(torch::kCPU, torch::kInt64) : torch::zeros({n}, torch::kInt64);
  Boundary b;
  b.mixing = 1.0 - label_overlap(indices, groups, k);
  const auto G = n > 0 ? groups.max().item<std::int64_t>() + 1 : 0;
  auto median = torch::empty({n}, torch::kFloat64);
  for (std::int64_t g = 0; g < G; ++g) {
    const auto in = groups == g;
    if (in.any().item<bool>()) median.masked_fill_(in, torch::nanmedian(local_id.index({in})).item<double>());
  }
  b.id_ratio = local_id / median;
  auto shifted = (b.id_ratio >= id_factor) | (b.id_ratio <= 1.0 / id_factor);
  // With groups, a shifted local ID counts only next to another group: alone it is as often the
  // estimator's noise (about 0.5% of points beyond a factor 2 at k = 20) as a meeting place.
  if (groups_in.defined()) shifted &= b.mixing > 0;
  b.flagged = ((b.mixing >= mixing_min) | shifted).nonzero().flatten();
  return b;
}

}  // namespace strata::analysis::geometry

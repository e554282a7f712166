#include "core/analysis/neighbours.h"

#include <algorithm>
#include <limits>

#include "core/analysis/tensor_support.h"
#include "core/util/error.h"

namespace strata::analysis {

namespace {
// Rows per block: keeps each [block, N] distance matrix near 32 MiB of float64.
constexpr std::int64_t kBlockElements = std::int64_t{1} << 22;
}  // namespace

torch::Tensor nearest_neighbour_distances(const torch::Tensor& X_in, std::int64_t k) {
  auto X = detail::cpu_double_matrix(X_in, "nearest neighbours");
  const auto n = X.size(0);
  if (k < 1 || k >= n) fail_input("nearest neighbours: k = {} must lie in [1, {}) for {} points", k, n, n);
  // Centring shrinks the norms in ‖a‖² − 2a·b + ‖b‖², and with them its rounding error.
  X = X - X.mean(0);
  const auto norms = X.pow(2).sum(1);
  const auto block = std::max<std::int64_t>(1, kBlockElements / n);
  auto out = torch::empty({n, k}, X.options());
  for (std::int64_t start = 0; start < n; start += block) {
    const auto rows = std::min(block, n - start);
    const auto A = X.narrow(0, start, rows);
    auto d2 = (norms.narrow(0, start, rows).unsqueeze(1) - 2.0 * A.matmul(X.t()) + norms.unsqueeze(0)).clamp_min_(0.0);
    // Exclude each point itself (not its duplicates, which are other points).
    d2.diagonal(/*offset=*/start).fill_(std::numeric_limits<double>::infinity());
    const auto nearest = std::get<1>(d2.topk(k, /*dim=*/1, /*largest=*/false, /*sorted=*/false));
    // The expanded form only selects the neighbours; their distances are recomputed from
    // explicit differences, which stay accurate for very close points.
    const auto exact = (X.index({nearest}) - A.unsqueeze(1)).pow(2).sum(2).sqrt();
    out.narrow(0, start, rows).copy_(std::get<0>(exact.sort(/*dim=*/1)));
  }
  return out;
}

torch::Tensor distinct_rows(const torch::Tensor& X) {
  if (X.size(0) == 0) return X;
  return std::get<0>(torch::unique_dim(X, /*dim=*/0, /*sorted=*/true));
}

}  // namespace strata::analysis

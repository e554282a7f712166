#include "core/analysis/geometry/local_id.h"

#include <algorithm>
#include <limits>

#include "core/analysis/geometry/knn.h"
#include "core/util/error.h"

namespace strata::analysis::geometry {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_ks(const std::vector<std::int64_t>& ks, std::int64_t available, const char* what) {
  for (const auto k : ks)
    if (k < 3 || k > available) fail_input("{}: k = {} must lie in [3, {}]", what, k, available);
}

// r1, r2 of each point of each neighbourhood [b, k, L] among the others: float64 Gram of the
// centred neighbourhood (k × k per point, so float64 costs little and keeps close pairs exact).
torch::Tensor neighbourhood_ratios(const torch::Tensor& hood) {
  const auto Y = hood - hood.mean(1, true);
  const auto G = Y.matmul(Y.transpose(1, 2));
  const auto sq = G.diagonal(0, 1, 2);
  auto d2 = (sq.unsqueeze(2) + sq.unsqueeze(1) - 2.0 * G).clamp_min_(0.0);
  d2.diagonal(0, 1, 2).fill_(std::numeric_limits<double>::infinity());
  const auto r = std::get<0>(d2.topk(2, 2, /*largest=*/false, /*sorted=*/true)).sqrt();
  return r.select(2, 1) / r.select(2, 0);  // inf (then NaN below) for a zero r1
}

// TwoNN's slope per row of ratios [b, k], as twonn_linear (multiscale_id.h) on each row.
torch::Tensor twonn_rows(const torch::Tensor& mu) {
  const auto k = mu.size(1);
  const auto keep = static_cast<std::int64_t>(static_cast<double>(k) * 0.9);
  const auto x = std::get<0>(mu.sort(1)).narrow(1, 0, keep).log();
  const auto y = -torch::log1p(-torch::arange(1, keep + 1, mu.options()) / static_cast<double>(k));
  auto d = x.matmul(y) / x.pow(2).sum(1);
  return d.masked_fill_(~torch::isfinite(mu).all(1), kNaN);
}

}  // namespace

torch::Tensor local_mle(const torch::Tensor& distances, const std::vector<std::int64_t>& ks) {
  check_ks(ks, distances.size(1), "local MLE");
  const auto logs = distances.to(torch::kCPU, torch::kFloat64).log();
  std::vector<torch::Tensor> cols;
  for (const auto k : ks) {
    const auto sum = (logs.select(1, k - 1).unsqueeze(1) - logs.narrow(1, 0, k - 1)).sum(1);
    const auto defined = (sum > 0) & torch::isfinite(sum);  // a zero distance (a duplicate) gives inf
    cols.push_back(torch::where(defined, static_cast<double>(k - 1) / sum, torch::full_like(sum, kNaN)));
  }
  return torch::stack(cols, 1);
}

torch::Tensor local_twonn(const torch::Tensor& X, const torch::Tensor& indices, const std::vector<std::int64_t>& ks) {
  check_ks(ks, indices.size(1), "local TwoNN");
  const auto n = X.size(0);
  const auto X64 = X.to(torch::kFloat64);
  auto out = torch::empty({n, static_cast<std::int64_t>(ks.size())}, torch::kFloat64);
  for (std::size_t c = 0; c < ks.size(); ++c) {
    const auto k = ks[c];
    const auto block = std::max<std::int64_t>(1, block_elements(X.device()) / (k * std::max(k, X.size(1))));
    for (std::int64_t start = 0; start < n; start += block) {
      const auto rows = std::min(block, n - start);
      const auto idx = indices.narrow(0, start, rows).narrow(1, 0, k).to(X.device());
      const auto d = twonn_rows(neighbourhood_ratios(X64.index({idx})));
      out.narrow(0, start, rows).select(1, static_cast<std::int64_t>(c)).copy_(d);
    }
  }
  return out;
}

GroupQuartiles group_quartiles(const torch::Tensor& values, const torch::Tensor& groups, std::int64_t G) {
  const auto cols = values.size(1);
  GroupQuartiles q{torch::full({G, cols}, kNaN, torch::kFloat64), torch::full({G, cols}, kNaN, torch::kFloat64),
                   torch::full({G, cols}, kNaN, torch::kFloat64)};
  const auto levels = torch::tensor({0.25, 0.5, 0.75}, torch::kFloat64);
  for (std::int64_t g = 0; g < G; ++g) {
    const auto v = values.index({groups == g});
    if (v.size(0) == 0) continue;
    const auto qs = torch::nanquantile(v, levels, /*dim=*/0);  // [3, cols]
    q.q25[g].copy_(qs[0]);
    q.median[g].copy_(qs[1]);
    q.q75[g].copy_(qs[2]);
  }
  return q;
}

}  // namespace strata::analysis::geometry

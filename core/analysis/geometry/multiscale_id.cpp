#include "core/analysis/geometry/multiscale_id.h"

#include <cmath>
#include <limits>

#include "core/analysis/geometry/knn.h"
#include "core/util/error.h"

namespace strata::analysis::geometry {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kEps64 = std::numeric_limits<double>::epsilon();
// DADApy's bisection precision, which it also uses to floor 1 − μ^−d (at twice its value).
constexpr double kBisectionEps = 1e-7;

// −∂ log L / ∂d of the Gride likelihood (DADApy's _neg_dloglik_did; its log-likelihood has
// (N − 1) log d, which the derivative keeps).
double neg_dloglik(double d, const std::vector<double>& mu, double n1, double n2) {
  double sum = 0;
  for (const double m : mu) {
    const double one_minus = std::max(1.0 - std::pow(m, -d), 2 * kBisectionEps);
    sum += ((1 - n2 + n1) / one_minus + n2 - 1.0) * std::log(m);
  }
  return sum - static_cast<double>(mu.size() - 1) / d;
}

// DADApy's _filter_mus: ratios of exactly 1 nudged up, far outliers (overlapping points) dropped.
std::vector<double> filtered_ratios(const torch::Tensor& mu_in, std::int64_t* discarded) {
  auto mu = mu_in.to(torch::kFloat64).clone();
  mu.masked_fill_(mu == 1.0, 1.0 + 10 * kEps64);
  const auto q = torch::quantile(mu, torch::tensor({0.95, 0.5}, torch::kFloat64));
  const double q95 = q[0].item<double>(), q50 = q[1].item<double>();
  const auto kept = mu.index({mu < 20 * (q95 - q50) + q50}).contiguous();
  if (discarded) *discarded = mu.numel() - kept.numel();
  return {kept.data_ptr<double>(), kept.data_ptr<double>() + kept.numel()};
}

// r1, r2 within each subset [c, s, 2]: small subsets batched (equal sizes), large ones one at a
// time through the row-blocked search, so memory stays O(block × s).
torch::Tensor two_nearest(const torch::Tensor& X, const std::vector<torch::Tensor>& subsets) {
  const auto s = subsets[0].numel();
  if (s * s <= (std::int64_t{1} << 22)) return knn_within(X, torch::stack(subsets), 2);
  std::vector<torch::Tensor> out;
  for (const auto& idx : subsets) out.push_back(knn(X.index_select(0, idx.to(X.device())), 2).distances);
  return torch::stack(out);
}

// `count` subsets of `size` points: consecutive runs of one seeded permutation, so they are
// disjoint (independent estimates) and one draw serves a whole level; where rounding asks for
// more points than there are, the last subsets are drawn on their own.
std::vector<torch::Tensor> disjoint_subsets(std::int64_t n, std::int64_t size, std::int64_t count, std::uint64_t seed) {
  const auto disjoint = std::min(count, n / size);
  const auto runs = std::get<0>(seeded_permutation(n, seed).narrow(0, 0, disjoint * size).view({disjoint, size}).sort(1));
  std::vector<torch::Tensor> out;
  for (std::int64_t j = 0; j < disjoint; ++j) out.push_back(runs[j].contiguous());
  for (std::int64_t j = disjoint; j < count; ++j) out.push_back(seeded_subset(n, size, seed + static_cast<std::uint64_t>(j) + 1));
  return out;
}

}  // namespace

double twonn_linear(const torch::Tensor& mu_all, double discard) {
  const auto mu_in = mu_all.index({torch::isfinite(mu_all)});  // a zero r1 (a duplicate) has no ratio
  const auto n = mu_in.numel();
  const auto keep = static_cast<std::int64_t>(static_cast<double>(n) * (1.0 - discard));
  if (n < 3 || keep < 2) return kNaN;
  const auto x = std::get<0>(mu_in.to(torch::kFloat64).sort()).narrow(0, 0, keep).log();
  const auto y = -torch::log1p(-torch::arange(1, keep + 1, torch::kFloat64) / static_cast<double>(n));
  const double xx = x.dot(x).item<double>();
  return xx > 0 ? x.dot(y).item<double>() / xx : kNaN;
}

double gride_mle(const torch::Tensor& mu_in, std::int64_t n1, std::int64_t n2, std::int64_t* discarded) {
  const auto mu = filtered_ratios(mu_in, discarded);
  if (mu.size() < 2) return kNaN;
  double d0 = 0.001, d1 = 1000.0;
  const double l1 = neg_dloglik(d1, mu, static_cast<double>(n1), static_cast<double>(n2));
  while (std::abs(d0 - d1) > kBisectionEps) {
    const double d2 = (d0 + d1) / 2.0;
    (neg_dloglik(d2, mu, static_cast<double>(n1), static_cast<double>(n2)) * l1 > 0 ? d1 : d0) = d2;
  }
  return (d0 + d1) / 2.0;
}

double gride_error(const torch::Tensor& mu_in, double d, std::int64_t n1, std::int64_t n2) {
  // DADApy's _fisher_info_scaling on every ratio (ones nudged as in the filter).
  auto mu = mu_in.to(torch::kFloat64).clone();
  mu.masked_fill_(mu == 1.0, 1.0 + 10 * kEps64);
  const auto pow = mu.pow(-d);
  const auto one_minus = (1.0 - pow).clamp_min(5 * kEps64);
  const double info = static_cast<double>(mu.numel()) / (d * d) +
                      static_cast<double>(n2 - n1 - 1) * ((mu.log() / one_minus).pow(2) * pow).sum().item<double>();
  return info > 0 ? 1.0 / std::sqrt(info) : kNaN;
}

GrideScaling gride_scaling(const torch::Tensor& distances, std::int64_t max_rank) {
  const auto top = std::min(max_rank, distances.size(1));
  std::vector<std::int64_t> ranks;
  for (std::int64_t n1 = 1; 2 * n1 <= top; n1 *= 2) ranks.push_back(n1);
  const auto S = static_cast<std::int64_t>(ranks.size());
  GrideScaling g{torch::tensor(ranks, torch::kInt64), torch::full({S}, kNaN, torch::kFloat64),
                 torch::full({S}, kNaN, torch::kFloat64), torch::full({S}, kNaN, torch::kFloat64),
                 torch::zeros({S}, torch::kInt64)};
  for (std::int64_t s = 0; s < S; ++s) {
    const auto n1 = ranks[static_cast<std::size_t>(s)];
    const auto r1 = distances.select(1, n1 - 1), r2 = distances.select(1, 2 * n1 - 1);
    // A zero r_n1 (duplicates) has no ratio: such points are left out and counted.
    const auto positive = r1 > 0;
    const auto mu = (r2 / r1).index({positive});
    std::int64_t dropped = 0;
    const double d = gride_mle(mu, n1, 2 * n1, &dropped);
    dropped += (~positive).sum().item<std::int64_t>();
    g.id[s] = d;
    g.err[s] = std::isnan(d) ? kNaN : gride_error(mu, d, n1, 2 * n1);
    g.scale[s] = ((r1 + r2) / 2).mean().item<double>();
    g.discarded[s] = dropped;
  }
  return g;
}

DecimationPlan decimation_plan(std::int64_t n, std::int64_t min_size, std::uint64_t seed) {
  DecimationPlan plan;
  // DADApy: N / 2^i for i < int(log2 N) − 1, rounded as numpy rounds (half to even).
  const int steps = n > 1 ? static_cast<int>(std::log2(static_cast<double>(n))) - 1 : 0;
  for (int i = 0; i < steps; ++i) {
    const auto size = static_cast<std::int64_t>(std::nearbyint(static_cast<double>(n) / std::ldexp(1.0, i)));
    if (size <= min_size) continue;
    std::vector<torch::Tensor> subsets;
    if (size == n) {
      subsets.push_back(torch::arange(n, torch::kInt64));
    } else {
      const auto count = static_cast<std::int64_t>(std::nearbyint(static_cast<double>(n) / static_cast<double>(size)));
      subsets = disjoint_subsets(n, size, count, seed + 1000003 * static_cast<std::uint64_t>(i));
    }
    plan.sizes.push_back(size);
    plan.subsets.push_back(std::move(subsets));
  }
  return plan;
}

TwonnScaling twonn_scaling(const torch::Tensor& X, const DecimationPlan& plan, const torch::Tensor& nearest) {
  const bool reuse = nearest.defined() && nearest.dim() == 2 && nearest.size(0) == X.size(0) && nearest.size(1) >= 2;
  const auto T = static_cast<std::int64_t>(plan.sizes.size());
  const auto f64 = torch::TensorOptions(torch::kFloat64);
  TwonnScaling out{torch::tensor(plan.sizes, torch::kInt64), torch::zeros({T}, torch::kInt64), torch::zeros({T}, f64),
                   torch::zeros({T}, f64), torch::zeros({T}, f64), torch::zeros({T}, f64)};
  for (std::int64_t t = 0; t < T; ++t) {
    const auto& subsets = plan.subsets[static_cast<std::size_t>(t)];
    const bool full = plan.sizes[static_cast<std::size_t>(t)] == X.size(0);
    const auto nn = full && reuse ? nearest.narrow(1, 0, 2).to(torch::kCPU, torch::kFloat64).unsqueeze(0)
                                  : two_nearest(X, subsets);  // [c, s, 2]
    const auto mu = nn.select(2, 1) / nn.select(2, 0);
    auto ids = torch::empty({mu.size(0)}, f64);
    for (std::int64_t j = 0; j < mu.size(0); ++j) ids[j] = twonn_linear(mu[j]);
    const auto scales = nn.mean({1, 2});
    out.count[t] = ids.numel();
    out.id[t] = ids.mean().item<double>();
    out.std[t] = ids.std(/*unbiased=*/false).item<double>();
    out.err[t] = out.std[t].item<double>() / std::sqrt(static_cast<double>(ids.numel()));
    out.scale[t] = scales.mean().item<double>();
  }
  return out;
}

}  // namespace strata::analysis::geometry

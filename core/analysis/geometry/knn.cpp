#include "core/analysis/geometry/knn.h"

#include <algorithm>
#include <limits>

#include "core/analysis/tensor_support.h"
#include "core/util/error.h"

namespace strata::analysis::geometry {

namespace {

// fp32 matrix products on CUDA (fast, and the selection only needs ranks), float64 on CPU.
torch::Tensor selection_copy(const torch::Tensor& X) {
  const auto centred = X - X.mean(0);  // small norms keep ‖a‖² − 2a·b + ‖b‖² accurate
  return X.is_cuda() ? centred.to(torch::kFloat32) : centred.to(torch::kFloat64);
}

std::int64_t block_rows(const torch::Tensor& X, std::int64_t width) {
  return std::max<std::int64_t>(1, block_elements(X.device()) / std::max<std::int64_t>(width, 1));
}

// Squared distances [rows, N] from A (rows of S) to all of S, by the expanded form.
torch::Tensor squared_block(const torch::Tensor& S, const torch::Tensor& norms, const torch::Tensor& idx) {
  const auto A = S.index_select(0, idx);
  return (norms.index_select(0, idx).unsqueeze(1) - 2.0 * A.matmul(S.t()) + norms.unsqueeze(0)).clamp_min_(0.0);
}

}  // namespace

std::int64_t block_elements(const torch::Device& device) {
  return device.is_cuda() ? std::int64_t{1} << 27 : std::int64_t{1} << 22;
}

DistinctPoints distinct_points(const torch::Tensor& X_in, torch::Device device) {
  if (!X_in.defined() || X_in.dim() != 2) fail_input("geometry: expected a 2-D matrix [points, features]");
  const auto X = X_in.detach().to(device, torch::kFloat64).contiguous();
  if (!torch::isfinite(X).all().item<bool>()) fail_input("geometry: the embeddings hold NaN or inf");
  const auto n = X.size(0);
  if (n == 0) return {X, torch::empty({0}, torch::kInt64), 0};
  const auto [unique, inverse, counts] = torch::unique_dim(X, 0, /*sorted=*/true, /*return_inverse=*/true);
  // The first row of each distinct point, then the points in that order (not lexicographic).
  auto first = torch::full({unique.size(0)}, n, inverse.options());
  first.scatter_reduce_(0, inverse, torch::arange(n, inverse.options()), "amin");
  const auto order = first.argsort();
  return {unique.index_select(0, order).contiguous(), first.index_select(0, order).cpu(), n - unique.size(0)};
}

Knn knn_of(const torch::Tensor& X, const torch::Tensor& queries, std::int64_t k) {
  const auto n = X.size(0);
  if (k < 1 || k >= n) fail_input("nearest neighbours: k = {} must lie in [1, {}) for {} points", k, n, n);
  const auto S = selection_copy(X);
  const auto X64 = X.to(torch::kFloat64);
  const auto norms = S.pow(2).sum(1);
  const auto q_all = queries.to(X.device(), torch::kInt64);
  const auto q = q_all.size(0);
  Knn out{torch::empty({q, k}, torch::kFloat64), torch::empty({q, k}, torch::kInt64)};
  const auto block = block_rows(X, std::max(n, k * X.size(1)));
  for (std::int64_t start = 0; start < q; start += block) {
    const auto idx = q_all.narrow(0, start, std::min(block, q - start));
    auto d2 = squared_block(S, norms, idx);
    d2.scatter_(1, idx.unsqueeze(1), std::numeric_limits<double>::infinity());  // never itself
    const auto nearest = std::get<1>(d2.topk(k, 1, /*largest=*/false, /*sorted=*/false));
    // The expanded form only selects; distances come from explicit float64 differences,
    // which stay accurate for very close points (the ratios of neighbour distances need them).
    const auto exact = (X64.index({nearest}) - X64.index_select(0, idx).unsqueeze(1)).pow(2).sum(2).sqrt();
    const auto [sorted, order] = exact.sort(1);
    out.distances.narrow(0, start, idx.size(0)).copy_(sorted);
    out.indices.narrow(0, start, idx.size(0)).copy_(nearest.gather(1, order));
  }
  return out;
}

Knn knn(const torch::Tensor& X, std::int64_t k) { return knn_of(X, torch::arange(X.size(0), torch::kInt64), k); }

torch::Tensor knn_within(const torch::Tensor& X, const torch::Tensor& subsets, std::int64_t k) {
  const auto c = subsets.size(0), s = subsets.size(1);
  if (k < 1 || k >= s) fail_input("nearest neighbours: k = {} must lie in [1, {}) for subsets of {}", k, s, s);
  const auto S = selection_copy(X);
  const auto X64 = X.to(torch::kFloat64);
  const auto all = subsets.to(X.device(), torch::kInt64);
  auto out = torch::empty({c, s, k}, torch::kFloat64);
  const auto block = block_rows(X, s * std::max(s, k * X.size(1)));  // subsets per block
  for (std::int64_t start = 0; start < c; start += block) {
    const auto idx = all.narrow(0, start, std::min(block, c - start));  // [b, s]
    const auto P = S.index({idx});
    const auto norms = P.pow(2).sum(2);
    auto d2 = (norms.unsqueeze(2) + norms.unsqueeze(1) - 2.0 * P.matmul(P.transpose(1, 2))).clamp_min_(0.0);
    d2.diagonal(0, 1, 2).fill_(std::numeric_limits<double>::infinity());
    const auto nearest = std::get<1>(d2.topk(k, 2, /*largest=*/false, /*sorted=*/false));  // [b, s, k] positions
    const auto rows = idx.gather(1, nearest.flatten(1)).view_as(nearest);
    const auto exact = (X64.index({rows}) - X64.index({idx}).unsqueeze(2)).pow(2).sum(3).sqrt();
    out.narrow(0, start, idx.size(0)).copy_(std::get<0>(exact.sort(2)));
  }
  return out;
}

void for_each_distance_block(const torch::Tensor& X, const std::function<void(std::int64_t, const torch::Tensor&)>& fn) {
  const auto S = selection_copy(X);
  const auto norms = S.pow(2).sum(1);
  const auto n = S.size(0);
  const auto block = block_rows(X, n);
  for (std::int64_t start = 0; start < n; start += block) {
    const auto idx = torch::arange(start, std::min(n, start + block), torch::TensorOptions(torch::kInt64).device(S.device()));
    auto d = squared_block(S, norms, idx).sqrt_();
    d.scatter_(1, idx.unsqueeze(1), 0.0);  // the expanded form leaves rounding noise on the diagonal
    fn(start, d);
  }
}

torch::Tensor distance_matrix(const torch::Tensor& X) {
  auto D = torch::empty({X.size(0), X.size(0)}, torch::kFloat64);
  for_each_distance_block(X, [&](std::int64_t start, const torch::Tensor& d) {
    D.narrow(0, start, d.size(0)).copy_(d.to(torch::kCPU, torch::kFloat64));
  });
  return D;
}

torch::Tensor seeded_permutation(std::int64_t n, std::uint64_t seed) {
  auto gen = detail::seeded_generator(seed);
  return torch::randperm(n, gen, torch::kInt64);
}

torch::Tensor seeded_subset(std::int64_t n, std::int64_t m, std::uint64_t seed) {
  if (m < 0 || m > n) fail_input("subset: {} of {} points", m, n);
  return std::get<0>(seeded_permutation(n, seed).narrow(0, 0, m).sort());
}

LineFit fit_line(const torch::Tensor& x, const torch::Tensor& y) {
  const auto xm = x.mean(), ym = y.mean();
  const auto dx = x - xm;
  const double sxx = dx.dot(dx).item<double>();
  LineFit f;
  f.slope = sxx > 0 ? dx.dot(y - ym).item<double>() / sxx : std::numeric_limits<double>::quiet_NaN();
  f.intercept = ym.item<double>() - f.slope * xm.item<double>();
  f.rms = (y - f.intercept - f.slope * x).pow(2).mean().sqrt().item<double>();
  return f;
}

}  // namespace strata::analysis::geometry

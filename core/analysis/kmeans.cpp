#include "core/analysis/kmeans.h"

#include <cmath>
#include <limits>

#include "core/analysis/tensor_support.h"
#include "core/util/error.h"

namespace strata::analysis {

namespace {

// Squared Euclidean distances [A, B] between the rows of a and b, clamped at zero.
torch::Tensor squared_distances(const torch::Tensor& a, const torch::Tensor& b) {
  const auto aa = a.pow(2).sum(1, /*keepdim=*/true);
  const auto bb = b.pow(2).sum(1).unsqueeze(0);
  return (aa - 2.0 * a.matmul(b.t()) + bb).clamp_min_(0.0);
}

// Greedy k-means++ (Arthur & Vassilvitskii 2007, with sklearn's 2 + ln k candidates per step):
// each new center is the best of several candidates drawn with probability proportional to the
// squared distance to the nearest center chosen so far.
torch::Tensor kmeans_plus_plus(const torch::Tensor& X, int k, torch::Generator& gen) {
  const auto n = X.size(0);
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  auto centers = torch::empty({k, X.size(1)}, X.options());
  const auto first = torch::randint(n, {1}, gen, torch::kInt64).item<std::int64_t>();
  centers[0] = X[first];
  auto closest = squared_distances(X.narrow(0, first, 1), X).squeeze(0);  // [N]
  for (int c = 1; c < k; ++c) {
    const auto cumulative = closest.cumsum(0);
    const auto potential = cumulative[-1];
    const auto draws = torch::rand({trials}, gen, torch::kFloat64) * potential;
    const auto candidates = torch::searchsorted(cumulative, draws).clamp_max_(n - 1);
    const auto with_candidate = torch::minimum(closest.unsqueeze(0), squared_distances(X.index({candidates}), X));
    const auto best = with_candidate.sum(1).argmin().item<std::int64_t>();
    centers[c] = X[candidates[best].item<std::int64_t>()];
    closest = with_candidate[best].clone();
  }
  return centers;
}

struct Assignment {
  torch::Tensor labels;    // int64 [N]
  torch::Tensor distance;  // float64 [N], squared distance to the assigned center
};

Assignment assign(const torch::Tensor& X, const torch::Tensor& centers) {
  auto [distance, labels] = squared_distances(X, centers).min(1);
  return {labels, distance};
}

// Means of the assigned points. An empty cluster takes the point farthest from its current
// center (the farthest first), which leaves its old cluster, as sklearn's relocation does.
torch::Tensor update_centers(const torch::Tensor& X, const Assignment& a, int k) {
  auto sums = torch::zeros({k, X.size(1)}, X.options()).index_add_(0, a.labels, X);
  auto counts = torch::bincount(a.labels, {}, k).to(torch::kFloat64);
  const auto empty = (counts == 0).nonzero().flatten();
  if (empty.numel() > 0) {
    const auto farthest = std::get<1>(a.distance.sort(std::optional<bool>(true), /*dim=*/0, /*descending=*/true));
    for (std::int64_t i = 0; i < empty.numel(); ++i) {
      const auto point = farthest[i].item<std::int64_t>();
      const auto from = a.labels[point].item<std::int64_t>();
      const auto to = empty[i].item<std::int64_t>();
      sums[from] -= X[point];
      counts[from] -= 1.0;
      sums[to] = X[point];
      counts[to] = 1.0;
    }
  }
  return sums / counts.unsqueeze(1);
}

KMeansResult lloyd(const torch::Tensor& X, torch::Tensor centers, int max_iter, double tolerance) {
  const int k = static_cast<int>(centers.size(0));
  Assignment a = assign(X, centers);
  int iterations = 0;
  bool labels_stable = false;
  while (iterations < max_iter) {
    const auto updated = update_centers(X, a, k);
    const double shift = (updated - centers).pow(2).sum().item<double>();
    centers = updated;
    ++iterations;
    Assignment next = assign(X, centers);
    labels_stable = next.labels.equal(a.labels);
    a = std::move(next);
    if (labels_stable || shift <= tolerance) break;
  }
  // Inertia from explicit differences rather than the expanded form, for accuracy.
  const double inertia = (X - centers.index({a.labels})).pow(2).sum().item<double>();
  return {a.labels, centers, inertia, iterations};
}

}  // namespace

KMeansResult kmeans(const torch::Tensor& X_in, int k, std::uint64_t seed, int restarts, int max_iter, double tol) {
  const auto X = detail::cpu_double_matrix(X_in, "k-means");
  const auto n = X.size(0);
  if (k < 1 || k > n) fail_input("k-means: the number of clusters {} must lie in [1, {}] (the number of points)", k, n);
  if (restarts < 1 || max_iter < 1) fail_input("k-means: restarts ({}) and max_iter ({}) must be at least 1", restarts, max_iter);
  if (!torch::isfinite(X).all().item<bool>()) fail_input("k-means: the data contain NaN or infinite values");
  // Tolerance on the total squared center shift, relative to the data's scale (as sklearn).
  const double tolerance = n > 0 ? X.var(0, /*unbiased=*/false).mean().item<double>() * tol : 0.0;
  auto seeds = detail::seeded_generator(seed);
  KMeansResult best;
  best.inertia = std::numeric_limits<double>::infinity();
  for (int r = 0; r < restarts; ++r) {
    const auto restart_seed = torch::randint(std::numeric_limits<std::int64_t>::max(), {1}, seeds, torch::kInt64);
    auto gen = detail::seeded_generator(static_cast<std::uint64_t>(restart_seed.item<std::int64_t>()));
    auto result = lloyd(X, kmeans_plus_plus(X, k, gen), max_iter, tolerance);
    if (result.inertia < best.inertia) best = std::move(result);
  }
  return best;
}

torch::Tensor canonical_labels(const torch::Tensor& labels_in, int k) {
  if (k < 1) fail_input("canonical labels: the number of clusters must be positive, got {}", k);
  const auto n = labels_in.defined() && labels_in.dim() == 1 ? labels_in.size(0) : -1;
  const auto labels = detail::cpu_labels(labels_in, n, k, "canonical labels");
  const auto sizes = torch::bincount(labels, {}, k);
  // First member of each cluster: scatter_reduce with "amin" over point indices.
  const auto first = torch::full({k}, n, torch::kInt64)
                         .scatter_reduce_(0, labels, torch::arange(n, torch::kInt64), "amin", /*include_self=*/true);
  // Order by (size descending, first member ascending); empty clusters have first == n, so they
  // follow in id order because the sort is stable on an id-ordered input.
  const auto key = (-sizes) * (n + 1) + first;
  const auto order = std::get<1>(key.sort(std::optional<bool>(true), /*dim=*/0));
  auto new_id = torch::empty({k}, torch::kInt64);
  new_id.index_put_({order}, torch::arange(k, torch::kInt64));
  return new_id.index({labels});
}

}  // namespace strata::analysis

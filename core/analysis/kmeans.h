#pragma once
// Seeded k-means: k-means++ initialisation, Lloyd iterations, several restarts, best inertia
// kept. Same procedure as scikit-learn's KMeans (greedy k-means++ with 2 + ln k local trials,
// tolerance relative to the mean feature variance, empty clusters moved to the farthest points),
// though not its random stream, so labels agree with sklearn up to renumbering, not bit for bit.
#include <torch/torch.h>

#include <cstdint>

namespace strata::analysis {

struct KMeansResult {
  torch::Tensor labels;   // int64 [N], CPU
  torch::Tensor centers;  // float64 [k, D], CPU
  double inertia = 0.0;   // sum over points of the squared distance to their center
  int iterations = 0;     // Lloyd iterations of the kept restart
};

// Deterministic for a seed: restart r starts from a seed drawn from `seed`'s generator, and the
// first restart with the smallest inertia wins. Works in float64 on the CPU whatever X's device.
// Throws InputError when X is not 2-D or k is outside [1, N].
KMeansResult kmeans(const torch::Tensor& X, int k, std::uint64_t seed, int restarts = 10, int max_iter = 300,
                    double tol = 1e-4);

// Labels renumbered so that cluster ids are ordered by decreasing size, ties broken by the
// smallest member index (empty clusters last, in their original order): "stratum 0" then means
// the same thing across runs that found the same partition.
torch::Tensor canonical_labels(const torch::Tensor& labels, int k);

}  // namespace strata::analysis

#pragma once
// Readouts against the truth of a synthetic space: which true stratum each found stratum mostly
// holds, its true dimension, and how well a readout ranks the strata by it.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace strata::analysis {

// Spearman's rank correlation over the pairs where both values are finite (ties get their
// average rank, as scipy.stats.spearmanr does). NaN with fewer than 3 pairs or when either
// side is constant over them.
double spearman(const std::vector<double>& a, const std::vector<double>& b);

struct StratumTruth {
  std::vector<double> dim;     // the true dimension of the true stratum most of its points are in
  std::vector<double> purity;  // the share of its points in that true stratum (NaN: empty stratum)
};
// strata [N] found labels in [0, S); truth [N] true stratum indices in [0, K); true_dims [K].
StratumTruth stratum_truth(const torch::Tensor& strata, std::int64_t S, const torch::Tensor& truth,
                           const torch::Tensor& true_dims);

}  // namespace strata::analysis

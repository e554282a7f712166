#pragma once
// Agreement between two labelings of the same points (e.g. strata against source domains), with
// the same conventions as scikit-learn's adjusted_rand_score and normalized_mutual_info_score
// (arithmetic averaging). Labels are any integers; only equality matters.
#include <torch/torch.h>

namespace strata::analysis {

// Counts [na, nb] int64 of points with label i in a (ids in [0, na)) and j in b (ids in [0, nb)).
torch::Tensor contingency(const torch::Tensor& a, int na, const torch::Tensor& b, int nb);

// Hubert & Arabie's adjusted Rand index; 1 for identical partitions (including the degenerate
// cases of one cluster each or one point per cluster each), about 0 for independent ones.
double adjusted_rand_index(const torch::Tensor& a, const torch::Tensor& b);

// Mutual information over the arithmetic mean of the two entropies (natural logs cancel). 1 when
// both labelings have a single cluster; 0 when the mutual information is 0.
double normalized_mutual_information(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace strata::analysis

#pragma once
// Principal component analysis by SVD of the centred data, in float64 on the CPU.
#include <torch/torch.h>

#include <cstdint>

namespace strata::analysis {

struct Pca {
  torch::Tensor mean;                      // [D]
  torch::Tensor components;                // [r, D], rows, by decreasing variance
  torch::Tensor explained_variance;        // [r], singular value² / (N − 1)
  torch::Tensor explained_variance_ratio;  // [r], share of the total variance (all directions)
};

// n_components = −1 keeps all min(N, D) directions. Signs follow scikit-learn's svd_flip on the
// rows of Vᵀ (the entry of largest magnitude in each component is positive), so projections
// equal sklearn.decomposition.PCA's. Throws InputError for fewer than 2 points.
Pca pca(const torch::Tensor& X, std::int64_t n_components = -1);

// (X − mean) projected on the first `dims` components: float64 [N, dims] on the CPU.
torch::Tensor pca_transform(const Pca& p, const torch::Tensor& X, std::int64_t dims);

// The paper's Table 1 estimator, computed as the authors do: the number of leading components
// whose cumulative explained-variance ratio first reaches the fraction, i.e.
// searchsorted(cumsum(ratio), f) + 1. Two guards the authors' code lacks: data with no variance
// (all points equal) give 0, and the count never exceeds the number of components (rounding
// can leave the cumulative sum a hair below f = 1). Throws InputError for fewer than 2 points.
std::int64_t pca_dimension(const torch::Tensor& X, double variance_fraction = 0.75);

}  // namespace strata::analysis

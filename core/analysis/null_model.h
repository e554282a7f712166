#pragma once
// The null model against which stratification claims are read: one Gaussian with the data's
// mean and covariance, so any "strata differ" finding can be compared with what a single global
// distribution of the same second-order shape gives.
#include <torch/torch.h>

#include <cstdint>

namespace strata::analysis {

// n points from N(mean(X), cov(X)) (unbiased covariance), drawn with a generator seeded with
// `seed`. Sampled through the SVD of the centred data (x = mean + z·diag(σ/√(N−1))·Vᵀ), which
// needs no D×D factorisation and handles a singular covariance (N ≤ D, PCA-reduced data).
// Computed in float64 on the CPU; returned in X's dtype and on X's device, ready to be fed to
// the same pipeline. Throws InputError for fewer than 2 points.
torch::Tensor gaussian_null(const torch::Tensor& X, std::int64_t n, std::uint64_t seed);

}  // namespace strata::analysis

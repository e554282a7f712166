#pragma once
// Intrinsic-dimension estimators, in float64 on the CPU: the PCA count (see pca.h), TwoNN and the
// Levina–Bickel maximum-likelihood estimator, and all three per stratum.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace strata::analysis {

// TwoNN (Facco, d'Errico, Rodriguez & Laio 2017, Sci. Rep. 7:12140), in the paper's linear-fit
// form: with μ_i = r₂/r₁ (second over first neighbour distance) sorted ascending and the
// empirical F(μ_(i)) = i/N, the dimension is the least-squares slope through the origin of
// −log(1 − F) against log μ over the smallest (1 − discard_fraction)·N ratios (the paper drops
// the largest 10%, whose tail is noisiest). Duplicate points are dropped first. Returns NaN when
// fewer than 3 distinct points remain.
double twonn_dimension(const torch::Tensor& X, double discard_fraction = 0.1);

// Levina & Bickel (2004) MLE with k neighbours. The per-point estimate is
// m_k(x)⁻¹ = (1/(k−1)) Σ_{j<k} log(T_k(x)/T_j(x)), and the points are combined as MacKay &
// Ghahramani (2005) recommend: the dimension is the inverse of the mean of the m_k(x)⁻¹ (rather
// than Levina–Bickel's plain mean of the m_k(x), which is biased upwards). Duplicate points are
// dropped first. Returns NaN when fewer than k + 1 distinct points remain. k ≥ 2.
double mle_dimension(const torch::Tensor& X, int k = 20);

// The three estimators on the points of each stratum s ∈ [0, S). A stratum with too few points
// for an estimator (PCA: 2; TwoNN: 3 distinct; MLE: k + 1 distinct) gets NaN for it and a
// warning naming the stratum; nothing throws for a small or empty stratum.
struct StratumDimensions {
  std::vector<double> pca, twonn, mle;
  std::vector<std::int64_t> sizes;
};
StratumDimensions stratum_dimensions(const torch::Tensor& X, const torch::Tensor& strata, int S,
                                     double variance_fraction = 0.75, int mle_k = 20);

}  // namespace strata::analysis

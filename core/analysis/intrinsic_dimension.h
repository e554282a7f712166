#pragma once
// Intrinsic-dimension estimators, in float64 on the CPU: TwoNN and the Levina–Bickel
// maximum-likelihood estimator with two normalisations (the PCA count is in pca.h; the table of
// all of them, and their use per stratum, is id_estimators.h).
#include <torch/torch.h>

#include <cstdint>

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

// Levina & Bickel's own combination: the plain mean over points of the local estimates
// m_k(x) = (k−1) / Σ_{j<k} log(T_k(x)/T_j(x)). Each m_k(x) has mean d·(k−1)/(k−2) for a
// Poisson process, so this reads high at small k (by 33% at k = 5, 6% at k = 20; on a flat
// 5-torus of 6000 points: 6.76 at k = 5 where mle_dimension gives 4.99). Kept to compare with
// the literature that reports it. Duplicate points are dropped first. k ≥ 3.
double mle_dimension_levina_bickel(const torch::Tensor& X, int k = 20);

}  // namespace strata::analysis

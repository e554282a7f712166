#pragma once
// Principal angles between column spaces, and the distances between experts' dictionaries built
// on them. Float64 on the CPU.
#include <torch/torch.h>

namespace strata::analysis {

// Principal angles (radians, ascending) between the column spaces of A [L, a] and B [L, b].
// Each matrix is orthonormalised by SVD, keeping the directions whose singular value exceeds
// max(L, cols)·ε·σ_max (numerical rank), then the cosines are the singular values of QaᵀQb
// (clamped to [0, 1]). Angles below 45° come instead from the sines (singular values of the part
// of one basis orthogonal to the other), as in Björck & Golub (1973) and scipy's
// subspace_angles: acos loses half the digits near 0, so a subspace against itself gives ~1e-15
// rather than ~1e-8. Returns min(rank A, rank B) angles.
torch::Tensor principal_angles(const torch::Tensor& A, const torch::Tensor& B);

// Distances between experts e, f of dictionaries [E, L, M] (columns = atoms): the mean principal
// angle and the Grassmann (geodesic) distance sqrt(Σ θ²), both [E, E] float64, symmetric, with
// a zero diagonal.
struct ExpertDistances {
  torch::Tensor mean_angle;  // [E, E] radians
  torch::Tensor grassmann;   // [E, E] sqrt(sum θ²)
};
ExpertDistances expert_distances(const torch::Tensor& dictionaries);

}  // namespace strata::analysis

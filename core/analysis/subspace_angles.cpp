#include "core/analysis/subspace_angles.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "core/util/error.h"

namespace strata::analysis {

namespace {

// Orthonormal basis [L, rank] of the column space of M, by SVD with a numerical-rank cut.
torch::Tensor orthonormal_basis(const torch::Tensor& M) {
  const auto svd = torch::linalg_svd(M, /*full_matrices=*/false);
  const auto& U = std::get<0>(svd);
  const auto& S = std::get<1>(svd);
  if (S.numel() == 0) return U;
  const double cut = static_cast<double>(std::max(M.size(0), M.size(1))) * std::numeric_limits<double>::epsilon() *
                     S[0].item<double>();
  const auto rank = (S > cut).sum().item<std::int64_t>();
  return U.narrow(1, 0, rank);
}

torch::Tensor angles_between_bases(const torch::Tensor& Qa, const torch::Tensor& Qb) {
  const auto count = std::min(Qa.size(1), Qb.size(1));
  if (count == 0) return torch::empty({0}, Qa.options());
  const auto cross = Qa.t().matmul(Qb);                                  // [ra, rb]
  const auto cosines = torch::linalg_svdvals(cross).clamp(0.0, 1.0);    // descending: angles ascending
  // The smaller basis minus its projection on the larger one: its singular values are the sines.
  const auto residual = Qa.size(1) >= Qb.size(1) ? Qb - Qa.matmul(cross) : Qa - Qb.matmul(cross.t());
  const auto sines = torch::linalg_svdvals(residual).clamp(0.0, 1.0).flip(0);  // ascending
  const auto small = cosines.pow(2) >= 0.5;
  return torch::where(small, torch::asin(sines), torch::acos(cosines));
}

torch::Tensor as_cpu_double(const torch::Tensor& M, const char* what) {
  if (!M.defined() || M.dim() != 2) fail_input("principal angles: {} must be a matrix [L, columns]", what);
  return M.detach().to(torch::kCPU, torch::kFloat64);
}

}  // namespace

torch::Tensor principal_angles(const torch::Tensor& A, const torch::Tensor& B) {
  const auto a = as_cpu_double(A, "the first matrix");
  const auto b = as_cpu_double(B, "the second matrix");
  if (a.size(0) != b.size(0)) fail_input("principal angles: the matrices have {} and {} rows", a.size(0), b.size(0));
  return angles_between_bases(orthonormal_basis(a), orthonormal_basis(b));
}

ExpertDistances expert_distances(const torch::Tensor& dictionaries) {
  if (!dictionaries.defined() || dictionaries.dim() != 3) fail_input("expert distances: dictionaries must be [E, L, M]");
  const auto D = dictionaries.detach().to(torch::kCPU, torch::kFloat64);
  const auto E = D.size(0);
  std::vector<torch::Tensor> bases;
  for (std::int64_t e = 0; e < E; ++e) bases.push_back(orthonormal_basis(D[e]));
  ExpertDistances out{torch::zeros({E, E}, torch::kFloat64), torch::zeros({E, E}, torch::kFloat64)};
  for (std::int64_t e = 0; e < E; ++e) {
    for (std::int64_t f = e + 1; f < E; ++f) {
      const auto theta = angles_between_bases(bases[e], bases[f]);
      const double mean = theta.numel() ? theta.mean().item<double>() : std::numeric_limits<double>::quiet_NaN();
      const double geodesic = theta.pow(2).sum().sqrt().item<double>();
      out.mean_angle[e][f] = mean;
      out.mean_angle[f][e] = mean;
      out.grassmann[e][f] = geodesic;
      out.grassmann[f][e] = geodesic;
    }
  }
  return out;
}

}  // namespace strata::analysis

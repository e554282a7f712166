#pragma once
// The PH0 dimension (Schweinhart 2020; Tulchinskii et al., arXiv 2306.04723): the total edge
// length L(n) of the Euclidean minimum spanning tree of n points sampled from a d-dimensional
// set grows as n^(1 − 1/d), so log L = a + (1 − 1/d) log n and d = 1 / (1 − slope). The MST's
// edges are exactly the 0-dimensional persistence bars of the Vietoris–Rips filtration.
#include <torch/torch.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace strata::analysis::geometry {

// Total edge length of the exact MST of a dense distance matrix [n, n] (float64 CPU), by Prim.
double mst_length(const torch::Tensor& D);

// Per size (those above the point count dropped): `repeats` seeded subsets of that many rows of
// [0, n), int64 CPU, ascending.
std::vector<std::vector<torch::Tensor>> ph0_subsets(std::int64_t n, const std::vector<std::int64_t>& sizes,
                                                    std::int64_t repeats, std::uint64_t seed);

struct Ph0Dimension {
  torch::Tensor sizes;    // [P] int64
  torch::Tensor lengths;  // [P, repeats] float64: MST length of each subset
  double dimension = std::numeric_limits<double>::quiet_NaN();
  double slope = std::numeric_limits<double>::quiet_NaN();  // of log L against log n over every subset
  double residual = std::numeric_limits<double>::quiet_NaN();  // rms of that fit
  std::string flag;  // why there is no dimension ("" when there is)
};
// X: the points (float64, any device).
Ph0Dimension ph0_dimension(const torch::Tensor& X, const std::vector<std::vector<torch::Tensor>>& subsets);

}  // namespace strata::analysis::geometry

#pragma once
// Persistent homology up to H1: the Vietoris–Rips filtration of a landmark subsample and its H0
// and H1 bars, by GUDHI's persistent cohomology over Z/2. An H0 bar ends where two clusters
// join (they are the MST's edges, as in ph0_dimension.h); an H1 bar is a loop, born when its
// edges appear and dead when triangles fill it. A bar much longer than the landmarks' spacing
// is a feature of the set itself; bars near the spacing are the sample's noise.
#include <torch/torch.h>

#include <cstdint>

namespace strata::analysis::geometry {

// Bars [bars, 2] float64 CPU of (birth, death) radii (edge lengths), longest first; the one H0
// class alive forever has death = inf.
struct Diagram {
  torch::Tensor h0, h1;
};
// D: the dense distance matrix [m, m] (float64, symmetric, zero diagonal) of up to a few hundred
// points; the filtration runs to triangles over every edge length.
Diagram rips_persistence(const torch::Tensor& D);

// m points of X (float64, any device) by farthest-point sampling from the point `first`: each
// next one is the point farthest from those chosen, so the landmarks cover X evenly. int64 CPU
// [min(m, n)], in the order chosen (ties go to the lowest index).
torch::Tensor farthest_points(const torch::Tensor& X, std::int64_t m, std::int64_t first);

// Exact float64 distances [m, m] (CPU) between the rows of a small matrix, by differences.
torch::Tensor exact_distances(const torch::Tensor& X);

}  // namespace strata::analysis::geometry

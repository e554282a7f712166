#pragma once
// Where strata meet: a point whose neighbours come from other groups (sources, strata), or whose
// local dimension is far from its group's typical one, sits where pieces of different kind touch.
#include <torch/torch.h>

#include <cstdint>

namespace strata::analysis::geometry {

struct Boundary {
  torch::Tensor mixing;    // [n] float64: fraction of a point's k neighbours from another group
  torch::Tensor id_ratio;  // [n] float64: its local ID over its group's median local ID
  torch::Tensor flagged;   // [F] int64: points with mixing >= mixing_min, or with id_ratio outside
                           // [1/f, f] and (given groups) at least one neighbour from another group
};

// indices: [n, >= k] neighbours (self excluded); groups: int64 [n] in [0, G), or undefined (one
// group: mixing 0, the ratio to the median of all points); local_id: [n].
Boundary boundary(const torch::Tensor& indices, const torch::Tensor& groups, const torch::Tensor& local_id,
                  std::int64_t k, double mixing_min, double id_factor);

}  // namespace strata::analysis::geometry

#pragma once
// One embedding's geometry, every readout of core/analysis/geometry/ at once: the pointwise
// local IDs and their summary per group, Gride and TwoNN-decimation scaling, the correlation
// and PH0 dimensions, volume growth, the label overlap, the points where groups meet and, when
// asked for, each group's persistent homology.
#include <torch/torch.h>

#include <map>
#include <string>

#include "core/analysis/geometry_spec.h"

namespace strata::analysis {

// Named results, each with a one-line meaning in `doc` (the caller stores them with it).
// Per-point tensors are aligned with points/rows (the analysed points: distinct rows, capped at
// max_points). A readout that is uninformative (too few points, too many duplicates, no scaling
// range) has an attribute "<readout>/flag" saying why, and its numbers are NaN.
struct GeometryResult {
  std::map<std::string, torch::Tensor> tensors;  // float64 or int64, CPU
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> attrs;
  std::map<std::string, std::string> doc;  // every name of the three maps above
  // Each analysed point's nearest others [n, K] (int64 CPU, ascending distance; K = the largest
  // neighbour count any readout asked for), kept for callers comparing neighbourhoods; not a readout.
  torch::Tensor neighbours;
};

// X: [rows, L] embeddings (any dtype and device); groups: int64 [rows] (any values, e.g. the
// source or the stratum), or undefined for none. Runs on `device`; deterministic for a seed.
GeometryResult embedding_geometry(const torch::Tensor& X, const torch::Tensor& groups, const GeometrySpec& spec,
                                  torch::Device device);

}  // namespace strata::analysis

#pragma once
// The intrinsic-dimension estimators, as one table: the per-stratum dimensions, their
// intervals, the archive (analysis/dims/<name>), the summary and the report all iterate it.
// A new estimator is its function (in its own file) and one row in id_estimators.cpp.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/analysis/analysis_spec.h"

namespace strata::analysis {

struct IdEstimator {
  std::string name;  // analysis/dims/<name> in the archive
  std::string doc;   // one line for the reference and the report
  // Points (distinct, for neighbour-based estimators) it needs; fewer give NaN.
  std::int64_t (*min_points)(const AnalysisSpec&);
  // The dimension of the points X [n, L] (float64, CPU), NaN when it is undefined.
  double (*estimate)(const torch::Tensor& X, const AnalysisSpec&);
};

const std::vector<IdEstimator>& id_estimators();

// Every estimator on the points of each stratum s ∈ [0, S). A stratum with too few points
// for an estimator gets NaN for it and a warning naming the stratum; nothing throws for a
// small or empty stratum.
struct StratumDimensions {
  std::map<std::string, std::vector<double>> dims;  // estimator name -> one value per stratum
  std::vector<std::int64_t> sizes;
};
StratumDimensions stratum_dimensions(const torch::Tensor& X, const torch::Tensor& strata, int S, const AnalysisSpec& spec);

// Every estimator on subsets of n distinct points of each stratum: the mean over `repeats`
// subsets drawn without replacement (seeded per stratum); NaN for strata with fewer than n
// points. Estimates from strata of different sizes differ by size alone (a PCA count grows with
// n, neighbour distances shrink): these are what strata can be compared by.
std::map<std::string, std::vector<double>> dimensions_at(const torch::Tensor& X, const torch::Tensor& strata, int S,
                                                         const AnalysisSpec& spec, std::int64_t n,
                                                         std::int64_t repeats, std::uint64_t seed);

// The sizes an ID-against-n curve is drawn at: floor, 2 floor, 4 floor, ... up to `largest`
// (at most 6 sizes, and never above 2048 points, which bounds the cost).
std::vector<std::int64_t> curve_sizes(std::int64_t floor, std::int64_t largest);

}  // namespace strata::analysis

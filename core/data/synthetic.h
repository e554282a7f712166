#pragma once
// Synthetic stratified spaces with ground truth: a union of strata, each a d-dimensional
// linear patch, sphere or flat torus placed in R^L by a random isometry and an offset.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/data/corpus.h"
#include "core/spec/schema_fwd.h"

namespace strata {

struct SyntheticStratum {
  std::string name;
  std::string kind = "linear";  // linear: uniform in [-scale, scale]^d; sphere: S^d of radius
                                // scale (intrinsic dimension d); torus: flat T^d in R^{2d}
  std::int64_t dim = 2;
  std::int64_t points = 100;
  double scale = 1.0;
  double offset = 0.0;  // distance of the stratum's centre from the origin, random direction
  double noise = -1.0;  // per-stratum noise; < 0 uses the space's noise
  static const spec::Schema<SyntheticStratum>& schema();  // [[corpus.synthetic.stratum]]
};

struct SyntheticSpec {
  std::int64_t ambient_dim = 64;
  double noise = 0.0;  // isotropic Gaussian noise (standard deviation) in every ambient dimension
  std::uint64_t seed = 0;
  std::vector<SyntheticStratum> strata;
  static const spec::Schema<SyntheticSpec>& schema();  // [corpus.synthetic]
};

struct SyntheticData {
  Corpus corpus;        // text empty, source = stratum name, label = stratum index
  torch::Tensor points; // [N, L] float32, strata in order
  torch::Tensor truth;  // [N] int64 stratum index
};

// Throws InputError for impossible specs (a torus of dim d needs L >= 2d, ...).
void validate(const SyntheticSpec& spec);
SyntheticData generate_synthetic(const SyntheticSpec& spec);

// The ambient dimension a stratum's chart needs before the isometry (d, d+1 or 2d).
std::int64_t chart_dimension(const SyntheticStratum& s);

}  // namespace strata

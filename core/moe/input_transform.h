#pragma once
// What happens to the embeddings before a model sees them: optional per-feature
// standardisation (paper preset) or PCA with scikit-learn's conventions (authors' preset).
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>

#include "core/moe/config.h"
#include "core/moe/model.h"

namespace strata::moe {

struct Standardizer {
  torch::Tensor mean;  // [L] float64
  torch::Tensor std;   // [L] float64, population standard deviation; 1 where a feature is constant
};
Standardizer fit_standardizer(const torch::Tensor& X);
torch::Tensor apply(const Standardizer& s, const torch::Tensor& X);  // float32

// PCA as scikit-learn's PCA(n_components, svd_solver="full") computes it: centred data, exact
// SVD (here in float64), components = the leading right singular vectors with the sign that
// makes each component's largest-magnitude entry positive (svd_flip on V, scikit-learn >= 1.5).
struct PcaProjection {
  torch::Tensor mean;        // [L] float64
  torch::Tensor components;  // [P, L] float64
};
PcaProjection fit_pca(const torch::Tensor& X, std::int64_t n_components);
torch::Tensor apply(const PcaProjection& p, const torch::Tensor& X);  // (X - mean) C^T, float32

// The model's inputs and the statistics that produced them (named as in the archive).
struct PreparedInputs {
  torch::Tensor X;     // [N, L'] float32, CPU
  NamedTensors stats;  // "input_mean"/"input_std" or "pca_mean"/"pca_components", float32
};
PreparedInputs prepare_inputs(const torch::Tensor& X, const MoeConfig& cfg);

// The inputs as a trained model saw them, from the statistics stored with it (by their names
// above: standardised, PCA scores, or, with neither, as they are). float32, CPU.
torch::Tensor model_space(const torch::Tensor& X, const std::map<std::string, torch::Tensor>& stats);

}  // namespace strata::moe

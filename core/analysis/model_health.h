#pragma once
// Whether a trained mixture's readouts can mean anything. A gate that sends (nearly) every
// point to one expert, or a model that explains none of the variance within strata, gives a
// gating-weighted sparsity (the paper's Table 2) that says nothing about the strata.
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace strata::analysis {

struct ModelHealth {
  double variance_explained = 0;     // 1 − Σ‖x − y‖² / Σ‖x − x̄‖² over all points (model space)
  torch::Tensor usage;               // [E] mean gating weight
  torch::Tensor argmax_share;        // [E] share of points whose largest gating weight is e's
  torch::Tensor mean_l0;             // [E] mean number of non-zero codes per point
  torch::Tensor dead_atoms;          // [E] atoms no point ever uses
  double densest_argmax_share = 0;   // argmax share of the expert with the largest sparsity level
  double entropy = 0, entropy_max = 0;  // mean gating entropy (nats) and its maximum, log E
  double negative_thresholds = 0;    // share of LISTA thresholds below 0 (NaN: the model has none)
  std::int64_t unconstrained_experts = 0;  // experts whose sparsity level equals the atoms (no top-s limit)
  bool collapsed = false;            // one expert takes more than kCollapsedShare of the argmax routing
};
constexpr double kCollapsedShare = 0.9;

// X [N, L] the inputs as the model saw them; gating [N, E]; recon_error [N] (its ‖x − y‖²);
// support [N, E, M] (0/1); sparsity [E]; thresholds [E, M] or undefined.
ModelHealth model_health(const torch::Tensor& X, const torch::Tensor& gating, const torch::Tensor& recon_error,
                         const torch::Tensor& support, const torch::Tensor& sparsity, const torch::Tensor& thresholds);

// Per stratum: 1 − Σ_{i∈s} err_i / Σ_{i∈s} ‖x_i − μ_s‖² ([S], NaN for a stratum without spread),
// and the same pooled over all strata (`overall`). ≤ 0: the model reconstructs no more than the
// strata's means, so it has learned nothing about how points vary inside a stratum.
struct WithinStratum {
  torch::Tensor per_stratum;
  double overall = 0;
};
WithinStratum within_stratum_variance_explained(const torch::Tensor& X, const torch::Tensor& recon_error,
                                                const torch::Tensor& strata, std::int64_t S);

// "" when the run's Table 2 can be read, else why not (one sentence). gate_training: "trained",
// "untrained" (the authors' routing) or "none" (the uniform gate).
std::string readout_problem(const ModelHealth& h, double within_stratum_explained, const std::string& gate_training);

}  // namespace strata::analysis

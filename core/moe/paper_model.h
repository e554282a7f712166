#pragma once
// The paper's sparse mixture of dictionary experts (§4), experts batched into single tensors.
//
//   codes    z_e = top-s_e( LISTA_K(x) ),  LISTA: z_0 = 0, z_{k+1} = h_theta_e(W_e x + S_e z_k)
//   experts  f_e(x) = D_e z_e,             D_e [L, M] with unit-norm columns
//   gate     q = W_q x, sigma_e = q . k_e / sqrt(Q), w = softmax(sigma)   (or w_e = 1/E)
//   output   y = sum_e w_e f_e(x)
//   loss     (1/B) sum_b ||x_b - y_b||^2 / L                     (mean squared error per entry)
//            + load_balance * E * sum_e (mean_b w_be)^2          (1 when usage is even, E when
//                                                                 one expert takes every point)
//            + entropy_weight * mean_b H(w_b), H(w) = -sum_e w_e log w_e
//                                                                (> 0 sharpens, < 0 spreads)
//            + sparsity_cost * mean_b sum_e w_be s_e / L         (a per-atom cost: routing to a
//                                                                 denser expert must pay for itself)
//            The gate terms act on the attention gate only (with the uniform gate they are
//            constants and are left out).
//
// Initialisation, from one torch::Generator on the CPU, in this order:
//   D: standard normal entries, columns scaled to unit norm;
//   W_e = D_e^T / c_e, S_e = I - D_e^T D_e / c_e with c_e = ||D_e^T D_e||_2 (the ISTA step of
//        Gregor & LeCun), theta = 0 (so the initial encoder is K gradient steps on
//        ||x - D_e z||^2 followed by top-s; the thresholds are learned from there);
//   W_q: normal with standard deviation 1/sqrt(L), divided by the inputs' RMS when gate_init =
//        "rms" (make_model); keys: standard normal (attention gate only).
// After every step: unit-norm dictionary columns, and thresholds projected to >= 0 when
// thresholds = "nonnegative". The sparsity cost's weight ramps up linearly over the first
// sparsity_warmup epochs (epoch e of them: (e + 1) / sparsity_warmup).
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "core/moe/config.h"
#include "core/moe/model.h"
#include "core/moe/top_s.h"

namespace strata::moe {

struct PaperParams {
  torch::Tensor dictionaries;  // D [E, L, M]
  torch::Tensor lista_W;       // [E, M, L]
  torch::Tensor lista_S;       // [E, M, M]
  torch::Tensor lista_theta;   // [E, M]
  torch::Tensor gate_Wq;       // [Q, L] (attention gate only)
  torch::Tensor gate_keys;     // [E, Q] (attention gate only)
};

// Draws the initial parameters (float32, CPU) as described above.
PaperParams init_paper_params(const MoeConfig& cfg, std::int64_t input_dim, torch::Generator& gen);

struct PaperForward {
  torch::Tensor y;       // [B, L] mixture output
  torch::Tensor gating;  // [B, E] w
  torch::Tensor scores;  // [B, E] sigma (undefined for the uniform gate)
  torch::Tensor codes;   // [E, B, M] z_e after top-s
};

// The model of one configuration, or of several trained together as one batched model
// (members: equal atoms, experts, input width, LISTA steps, gate and query dimension; each its
// own parameters, sparsity levels, loss weights and thresholds rule). Member g's arithmetic is
// the same batched arithmetic whatever the other members are, so training it in a group gives
// what training it alone gives (on the CPU bit for bit).
class PaperMoe final : public MoeModel {
 public:
  // Takes ownership of `params`, moves them to `device` and marks them trainable.
  PaperMoe(const MoeConfig& cfg, PaperParams params, torch::Device device);
  PaperMoe(const std::vector<MoeConfig>& cfgs, std::vector<PaperParams> params, torch::Device device);

  // Every member at once: x [G, B, L] (row g: member g's points) -> y [G, B, L], gating and
  // scores [G, B, E], codes [G, E, B, M].
  PaperForward forward_members(const torch::Tensor& x) const;
  // Each member's loss [G] (the header's loss with its own weights) for forward_members(x).
  torch::Tensor member_losses(const PaperForward& out, const torch::Tensor& x) const;
  // A model of one member: x [B, L], the shapes of PaperForward; its loss, a scalar.
  PaperForward forward(const torch::Tensor& x) const;
  torch::Tensor loss(const PaperForward& out, const torch::Tensor& x) const;
  const PaperParams& params(std::int64_t g = 0) const { return p_.at(static_cast<std::size_t>(g)); }

  std::int64_t members() const override { return static_cast<std::int64_t>(p_.size()); }
  using MoeModel::parameters;
  NamedTensors parameters(std::int64_t g) const override;
  std::vector<torch::Tensor> trainable(std::int64_t g) const override;
  torch::Tensor batch_loss(const torch::Tensor& x, const torch::Tensor& labels) const override;
  void after_step() override;  // unit-norm dictionary columns, thresholds >= 0
  void begin_epoch(std::int64_t epoch) override;
  std::vector<Evaluation> evaluate(const torch::Tensor& X) const override;
  torch::Tensor dictionaries(std::int64_t g) const override { return params(g).dictionaries; }

 private:
  // Per member: the weights of the loss terms, and the rules applied after a step.
  struct Terms {
    double load_balance = 0, entropy_weight = 0, sparsity_cost = 0;
    std::int64_t sparsity_warmup = 0;
    bool nonnegative_thresholds = true;
  };
  bool attention() const { return p_.front().gate_Wq.defined(); }
  torch::Tensor stacked(torch::Tensor PaperParams::*field) const;  // [G, ...] of every member's
  torch::Tensor weights(double Terms::*term, double scale) const;  // [G] float32 on the device

  std::vector<PaperParams> p_;
  std::vector<Terms> terms_;
  std::int64_t steps_;
  torch::Device device_;
  bool load_balance_ = false, entropy_ = false, sparsity_ = false;  // terms some member has
  torch::Tensor load_balance_w_, entropy_w_, sparsity_w_;            // [G] weights in force
  torch::Tensor atoms_per_dim_;  // [G, 1, E] s_e / L, for the sparsity cost
  TopS top_s_;
};

}  // namespace strata::moe

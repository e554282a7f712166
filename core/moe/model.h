#pragma once
// What the trainer needs from a mixture model, whichever procedure (paper or authors') it is.
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace strata::moe {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Per-point outputs of a trained model on all inputs (CPU or the model's device).
struct Evaluation {
  torch::Tensor gating;       // [N, E] float32 gate probabilities
  torch::Tensor recon_error;  // [N] float32 squared reconstruction error
  torch::Tensor support;      // [N, E, M] uint8: atoms with a non-zero code
  torch::Tensor selected;     // [N] int64 expert chosen for the point
};

// A model may be several models of equal shapes trained together (members, each with its own
// parameters, loss terms and batch order): every member's results are those it has alone.
class MoeModel {
 public:
  virtual ~MoeModel() = default;
  // How many models this one trains together (G).
  virtual std::int64_t members() const { return 1; }
  // Every parameter of member g, by the name it has in the archive (trainable or not).
  virtual NamedTensors parameters(std::int64_t g) const = 0;
  // Every member's parameters, member after member (what ranks synchronise).
  NamedTensors parameters() const {
    NamedTensors all;
    for (std::int64_t g = 0; g < members(); ++g)
      for (auto& named : parameters(g)) all.push_back(std::move(named));
    return all;
  }
  // The parameters the optimiser updates, of member g.
  virtual std::vector<torch::Tensor> trainable(std::int64_t g) const = 0;
  // Each member's training objective on its mini-batch (mean over its points): x [G, B, L] (row g
  // is member g's batch), labels [G, B] or undefined; returns [G].
  virtual torch::Tensor batch_loss(const torch::Tensor& x, const torch::Tensor& labels) const = 0;
  // Projection after each optimiser step (e.g. unit-norm dictionary columns).
  virtual void after_step() {}
  // Called before each epoch's first step (a loss term may ramp up over epochs).
  virtual void begin_epoch(std::int64_t /*epoch*/) {}
  // Each member's outputs on all inputs X [N, L], without gradients.
  virtual std::vector<Evaluation> evaluate(const torch::Tensor& X) const = 0;
  // Member g's dictionaries [E, rows, M], which the analyses compare.
  virtual torch::Tensor dictionaries(std::int64_t g) const = 0;
};

}  // namespace strata::moe

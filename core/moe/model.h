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

class MoeModel {
 public:
  virtual ~MoeModel() = default;
  // Every parameter, by the name it has in the archive (trainable or not).
  virtual NamedTensors parameters() const = 0;
  // The parameters the optimiser updates.
  virtual std::vector<torch::Tensor> trainable() const = 0;
  // The training objective on one mini-batch (mean over its points).
  virtual torch::Tensor batch_loss(const torch::Tensor& x, const torch::Tensor& labels) const = 0;
  // Projection after each optimiser step (e.g. unit-norm dictionary columns).
  virtual void after_step() {}
  // Called before each epoch's first step (a loss term may ramp up over epochs).
  virtual void begin_epoch(std::int64_t /*epoch*/) {}
  // Outputs on all inputs, without gradients.
  virtual Evaluation evaluate(const torch::Tensor& X) const = 0;
  // The dictionaries [E, rows, M] the analyses compare.
  virtual torch::Tensor dictionaries() const = 0;
};

}  // namespace strata::moe

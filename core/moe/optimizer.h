#pragma once
// Adam (torch defaults but the learning rate). On the CPU it is torch::optim::Adam, so CPU
// runs stay bit for bit what they were; on CUDA one fused kernel updates every parameter,
// since a step of the mixture is a few small tensors and per-tensor launches would dominate.
#include <torch/torch.h>

#include <optional>
#include <vector>

namespace strata::moe {

class Adam {
 public:
  Adam(std::vector<torch::Tensor> params, double lr);
  // Each parameter with its own learning rate (models trained together may differ in it).
  Adam(std::vector<torch::Tensor> params, const std::vector<double>& lrs);

  void zero_grad();
  void step();

 private:
  // The parameters of one learning rate (CUDA: one fused kernel call each).
  struct Group {
    double lr;
    std::vector<torch::Tensor> params, exp_avg, exp_avg_sq, steps;
  };
  std::vector<torch::Tensor> params_;
  std::optional<torch::optim::Adam> reference_;  // CPU parameters
  std::vector<Group> groups_;                     // CUDA: the fused kernel's state
};

}  // namespace strata::moe

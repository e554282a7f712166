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

  void zero_grad();
  void step();

 private:
  std::vector<torch::Tensor> params_;
  double lr_;
  std::optional<torch::optim::Adam> reference_;  // CPU parameters
  std::vector<torch::Tensor> exp_avg_, exp_avg_sq_, steps_;  // CUDA: the fused kernel's state
};

}  // namespace strata::moe

#include "core/moe/optimizer.h"

#include <ATen/ops/_foreach_add.h>
#include <ATen/ops/_fused_adam.h>

namespace strata::moe {

namespace {

// torch.optim.Adam's defaults.
constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;

bool on_cuda(const std::vector<torch::Tensor>& params) {
  for (const auto& p : params)
    if (!p.is_cuda()) return false;
  return !params.empty();
}

}  // namespace

Adam::Adam(std::vector<torch::Tensor> params, double lr) : params_(std::move(params)), lr_(lr) {
  if (!on_cuda(params_)) {
    reference_.emplace(params_, torch::optim::AdamOptions(lr));
    return;
  }
  torch::NoGradGuard no_grad;
  for (const auto& p : params_) {
    exp_avg_.push_back(torch::zeros_like(p, at::MemoryFormat::Preserve));
    exp_avg_sq_.push_back(torch::zeros_like(p, at::MemoryFormat::Preserve));
    // The fused kernel reads the step count from the device: no host sync per step.
    steps_.push_back(torch::zeros({}, p.options().dtype(torch::kFloat32)));
  }
}

void Adam::zero_grad() {
  if (reference_) return reference_->zero_grad();
  for (auto& p : params_)
    if (p.grad().defined()) p.mutable_grad().reset();
}

void Adam::step() {
  if (reference_) {
    reference_->step();
    return;
  }
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  grads.reserve(params_.size());
  for (const auto& p : params_) grads.push_back(p.grad().defined() ? p.grad() : torch::zeros_like(p));
  at::_foreach_add_(steps_, 1);
  at::_fused_adam_(params_, grads, exp_avg_, exp_avg_sq_, /*max_exp_avg_sqs=*/{}, steps_, lr_, kBeta1, kBeta2,
                   /*weight_decay=*/0.0, kEps, /*amsgrad=*/false, /*maximize=*/false);
}

}  // namespace strata::moe

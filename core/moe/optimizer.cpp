#include "core/moe/optimizer.h"

#include <algorithm>

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

Adam::Adam(std::vector<torch::Tensor> params, double lr)
    : Adam(params, std::vector<double>(params.size(), lr)) {}

Adam::Adam(std::vector<torch::Tensor> params, const std::vector<double>& lrs) : params_(std::move(params)) {
  TORCH_CHECK(lrs.size() == params_.size(), "Adam: one learning rate per parameter");
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto it = std::find_if(groups_.begin(), groups_.end(), [&](const Group& g) { return g.lr == lrs[i]; });
    if (it == groups_.end()) it = groups_.insert(groups_.end(), Group{lrs[i], {}, {}, {}, {}});
    it->params.push_back(params_[i]);
  }
  if (!on_cuda(params_)) {
    std::vector<torch::optim::OptimizerParamGroup> param_groups;
    for (const auto& g : groups_)
      param_groups.emplace_back(g.params, std::make_unique<torch::optim::AdamOptions>(g.lr));
    reference_.emplace(std::move(param_groups), torch::optim::AdamOptions(groups_.front().lr));
    groups_.clear();
    return;
  }
  torch::NoGradGuard no_grad;
  for (auto& g : groups_)
    for (const auto& p : g.params) {
      g.exp_avg.push_back(torch::zeros_like(p, at::MemoryFormat::Preserve));
      g.exp_avg_sq.push_back(torch::zeros_like(p, at::MemoryFormat::Preserve));
      // The fused kernel reads the step count from the device: no host sync per step.
      g.steps.push_back(torch::zeros({}, p.options().dtype(torch::kFloat32)));
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
  for (auto& g : groups_) {
    std::vector<torch::Tensor> grads;
    grads.reserve(g.params.size());
    for (const auto& p : g.params) grads.push_back(p.grad().defined() ? p.grad() : torch::zeros_like(p));
    at::_foreach_add_(g.steps, 1);
    at::_fused_adam_(g.params, grads, g.exp_avg, g.exp_avg_sq, /*max_exp_avg_sqs=*/{}, g.steps, g.lr, kBeta1, kBeta2,
                     /*weight_decay=*/0.0, kEps, /*amsgrad=*/false, /*maximize=*/false);
  }
}

}  // namespace strata::moe

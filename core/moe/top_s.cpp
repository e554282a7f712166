#include "core/moe/top_s.h"

#include <algorithm>

namespace strata::moe {

namespace {

struct MaskStraightThrough : torch::autograd::Function<MaskStraightThrough> {
  static torch::Tensor forward(torch::autograd::AutogradContext*, const torch::Tensor& u, const torch::Tensor& mask) {
    return u * mask;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext*,
                                                 torch::autograd::variable_list grad) {
    return {grad[0], torch::Tensor()};
  }
};

}  // namespace

torch::Tensor mask_straight_through(const torch::Tensor& u, const torch::Tensor& mask) {
  if (!torch::GradMode::is_enabled() || !u.requires_grad()) return u * mask;
  return MaskStraightThrough::apply(u, mask);
}

TopS::TopS(const std::vector<std::int64_t>& sparsity, torch::Device device) { set_levels(sparsity, device); }

TopS TopS::of_members(const std::vector<std::vector<std::int64_t>>& members, torch::Device device) {
  std::vector<std::int64_t> all;
  for (const auto& levels : members) all.insert(all.end(), levels.begin(), levels.end());
  TopS t;
  t.set_levels(all, device);
  return t;
}

void TopS::set_levels(const std::vector<std::int64_t>& all, torch::Device device) {
  TORCH_CHECK(!all.empty(), "top-s: no sparsity levels");
  experts_ = static_cast<std::int64_t>(all.size());
  max_s_ = *std::max_element(all.begin(), all.end());
  min_s_ = *std::min_element(all.begin(), all.end());
  const auto levels = torch::tensor(all, torch::kInt64).view({experts_, 1, 1});
  const auto ranks = torch::arange(max_s_, torch::kInt64).view({1, 1, max_s_});
  keep_ = (ranks < levels).to(torch::kFloat32).to(device);
}

torch::Tensor TopS::mask(const torch::Tensor& u) const {
  TORCH_CHECK(u.dim() == 3 && u.size(0) == experts_, "top-s: expected codes [", experts_, ", B, M], got ", u.sizes());
  if (min_s_ >= u.size(2)) return torch::ones_like(u, u.options().requires_grad(false));
  const auto order = std::get<1>(torch::topk(u.detach().abs(), max_s_, /*dim=*/-1, /*largest=*/true, /*sorted=*/true));
  const auto keep = keep_.to(u.dtype()).expand_as(order);
  return torch::zeros_like(u, u.options().requires_grad(false)).scatter_(-1, order, keep);
}

torch::Tensor TopS::operator()(const torch::Tensor& u) const { return mask_straight_through(u, mask(u)); }

}  // namespace strata::moe

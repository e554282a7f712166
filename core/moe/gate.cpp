#include "core/moe/gate.h"

#include <cmath>

namespace strata::moe {

torch::Tensor attention_scores_members(const torch::Tensor& x, const torch::Tensor& Wq, const torch::Tensor& keys) {
  const auto q = torch::bmm(x, Wq.transpose(1, 2));  // [G, B, Q]
  return torch::bmm(q, keys.transpose(1, 2)) / std::sqrt(static_cast<double>(Wq.size(1)));
}

torch::Tensor attention_scores(const torch::Tensor& x, const torch::Tensor& Wq, const torch::Tensor& keys) {
  return attention_scores_members(x.unsqueeze(0), Wq.unsqueeze(0), keys.unsqueeze(0)).squeeze(0);
}

torch::Tensor attention_gate(const torch::Tensor& x, const torch::Tensor& Wq, const torch::Tensor& keys) {
  return torch::softmax(attention_scores(x, Wq, keys), /*dim=*/1);
}

torch::Tensor uniform_gate(const torch::Tensor& x, std::int64_t experts) {
  auto shape = x.sizes().vec();
  shape.back() = experts;
  return torch::full(shape, 1.0 / static_cast<double>(experts), x.options().requires_grad(false));
}

}  // namespace strata::moe

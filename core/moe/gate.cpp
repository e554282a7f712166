#include "core/moe/gate.h"

#include <cmath>

namespace strata::moe {

torch::Tensor attention_scores(const torch::Tensor& x, const torch::Tensor& Wq, const torch::Tensor& keys) {
  const auto q = torch::matmul(x, Wq.t());  // [B, Q]
  return torch::matmul(q, keys.t()) / std::sqrt(static_cast<double>(Wq.size(0)));
}

torch::Tensor attention_gate(const torch::Tensor& x, const torch::Tensor& Wq, const torch::Tensor& keys) {
  return torch::softmax(attention_scores(x, Wq, keys), /*dim=*/1);
}

torch::Tensor uniform_gate(const torch::Tensor& x, std::int64_t experts) {
  return torch::full({x.size(0), experts}, 1.0 / static_cast<double>(experts), x.options().requires_grad(false));
}

}  // namespace strata::moe

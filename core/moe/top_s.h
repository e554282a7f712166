#pragma once
// Hard top-s selection by magnitude with a straight-through gradient, for all experts at once.
//
// Definition. For codes u[e, b, :] (expert e, point b) and a sparsity level s_e per expert,
//   forward:  top_s(u)[e,b,m] = u[e,b,m] if m is among the s_e entries of largest |u[e,b,:]|,
//                               0 otherwise;
//   backward: d top_s(u) / d u = identity, i.e. the incoming gradient passes unchanged to
//             every entry, kept or dropped (Bengio et al. 2013; the authors' TopKSTE does the
//             same).
// The selection is one batched op even when the s_e differ: take the top max(s) entries of
// every row, then keep those whose rank r (0 = largest) satisfies r < s_e. Several models trained
// together select as one table of all their experts: the kept entries of a model's rows are the
// ones it selects alone (ties between equal magnitudes aside, which top-k may break otherwise
// for another max(s)).
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace strata::moe {

// Multiplies u by a 0/1 mask in the forward pass; passes the gradient to u unchanged.
torch::Tensor mask_straight_through(const torch::Tensor& u, const torch::Tensor& mask);

class TopS {
 public:
  // The rank table lives on `device` so that selecting needs no host-to-device copy.
  TopS(const std::vector<std::int64_t>& sparsity, torch::Device device);
  // The experts of several models, model after model: u's rows are [G * E, B, M].
  static TopS of_members(const std::vector<std::vector<std::int64_t>>& members, torch::Device device);

  // 0/1 mask of the kept entries of u [E, B, M] (same dtype and device as u).
  torch::Tensor mask(const torch::Tensor& u) const;
  // top_s(u) as defined above.
  torch::Tensor operator()(const torch::Tensor& u) const;

 private:
  TopS() = default;
  void set_levels(const std::vector<std::int64_t>& levels, torch::Device device);

  std::int64_t experts_ = 0, max_s_ = 0, min_s_ = 0;
  torch::Tensor keep_;  // [E, 1, max s] float32: 1 where rank r < s_e
};

}  // namespace strata::moe

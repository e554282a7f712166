#pragma once
// The authors' published procedure (repository helloimlixin/llm-stratified, notebook export
// "experiments on stratified manifolds in large language models"), experts batched:
//
//   input    x = PCA_P(embedding) (P = pca_dim, 64; fitted in input_transform.h)
//   experts  T untied LISTA layers per expert, no thresholds, top-s_e after every layer:
//              z_0 = 0, z_{t+1} = top-s_e(W_{t,e} x + S_{t,e} z_t)   (straight-through top-s)
//            W_{t,e} [M, P], S_{t,e} [M, M], no biases
//   gate     p = softmax((A x + a) K^T / sqrt(G)), A [G, P] with bias a, keys K [E, G], G = 128
//   routing  experts with p_e >= 0.5 max p are eligible; the eligible one with the smallest
//            sparsity wins (ties: the lowest index). The choice is an index, so the gate gets
//            no gradient and never changes from its initial values.
//   head     h = W2 relu(W1 z_sel + b1) + b2, [M] -> [M] -> [P]
//   loss     supervised pairwise contrastive loss on the labels with margin m (1):
//            mean over all B*B pairs of  [y_i = y_j] d_ij^2 + [y_i != y_j] max(m - d_ij, 0)^2,
//            d_ij = ||h_i - h_j||_2 (torch::cdist)
//   The dictionaries D_e [P, M] (N(0, 0.01^2) entries) never enter the loss: they keep their
//   initial values; they are reported as the experts' dictionaries and used for the
//   reconstruction error ||x - D_sel z_sel||^2 in PCA space, which the authors never look at.
//
// Initialisation follows PyTorch's defaults for the authors' modules (nn.Linear: weights and
// biases uniform in +-1/sqrt(fan_in); keys standard normal; dictionaries 0.01 * standard
// normal), drawn from one torch::Generator on the CPU in the order of the fields below.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "core/moe/config.h"
#include "core/moe/model.h"
#include "core/moe/top_s.h"

namespace strata::moe {

constexpr std::int64_t kAuthorsGateDim = 128;         // G, the authors' query dimension
constexpr double kAuthorsEligibleFraction = 0.5;      // p >= 0.5 max p is eligible

struct AuthorsParams {
  torch::Tensor lista_W;       // [T, E, M, P]
  torch::Tensor lista_S;       // [T, E, M, M]
  torch::Tensor dictionaries;  // [E, P, M]
  torch::Tensor gate_W;        // [G, P]
  torch::Tensor gate_b;        // [G]
  torch::Tensor gate_keys;     // [E, G]
  torch::Tensor head_W1;       // [M, M]
  torch::Tensor head_b1;       // [M]
  torch::Tensor head_W2;       // [P, M]
  torch::Tensor head_b2;       // [P]
};

AuthorsParams init_authors_params(const MoeConfig& cfg, std::int64_t pca_dim, torch::Generator& gen);

// The routing rule above: gating [B, E] -> selected expert [B] (int64).
torch::Tensor authors_route(const torch::Tensor& gating, const torch::Tensor& sparsity);

// The authors' contrastive loss (see above); embeddings [B, D], labels [B].
torch::Tensor contrastive_loss(const torch::Tensor& embeddings, const torch::Tensor& labels, double margin);

struct AuthorsForward {
  torch::Tensor projection;  // [B, P] head output
  torch::Tensor gating;      // [B, E]
  torch::Tensor selected;    // [B]
  torch::Tensor codes;       // [E, B, M] every expert's final code
};

class AuthorsMoe final : public MoeModel {
 public:
  AuthorsMoe(const MoeConfig& cfg, AuthorsParams params, torch::Device device);

  AuthorsForward forward(const torch::Tensor& x) const;
  const AuthorsParams& params() const { return p_; }

  using MoeModel::parameters;
  NamedTensors parameters(std::int64_t g) const override;
  std::vector<torch::Tensor> trainable(std::int64_t g) const override;  // LISTA layers and head
  torch::Tensor batch_loss(const torch::Tensor& x, const torch::Tensor& labels) const override;  // x [1, B, P]
  std::vector<Evaluation> evaluate(const torch::Tensor& X) const override;
  torch::Tensor dictionaries(std::int64_t) const override { return p_.dictionaries; }

 private:
  AuthorsParams p_;
  double margin_;
  torch::Tensor sparsity_;  // [E] float32 on the device
  TopS top_s_;
};

}  // namespace strata::moe

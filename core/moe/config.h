#pragma once
// Configuration of one sparse mixture of dictionary experts and its check against the data.
#include <cstdint>
#include <string>
#include <vector>

namespace strata::moe {

// Two procedures share this configuration:
//   preset = "paper"        the equations of the paper (§4): LISTA dictionary experts with
//                           learned thresholds, hard top-s, attention gate, mixture output,
//                           reconstruction loss;
//   preset = "authors-code" the authors' published notebook: PCA to pca_dim, untied LISTA
//                           layers without thresholds, hard routing to one expert, projection
//                           head and supervised contrastive loss (see authors_model.h).
// Fields used by one preset only are ignored by the other (validate() rejects the
// combinations that would silently mean something else).
struct MoeConfig {
  std::int64_t atoms = 32;                                // M, atoms per dictionary
  std::vector<std::int64_t> sparsity{8, 12, 16, 20, 24, 28, 32};  // s_e; E = sparsity.size()
  std::int64_t lista_steps = 3;                           // K, unrolled steps (paper)
  std::int64_t gate_dim = 64;                             // Q, query dimension (paper)
  std::string gate = "attention";                         // "attention" | "uniform" (paper)
  double lr = 1e-3;
  std::int64_t epochs = 100;
  std::int64_t batch_size = 256;                          // the authors used 16 (4 for Llama)
  double load_balance = 0.0, entropy_weight = 0.0;        // optional loss terms (paper)
  bool standardize = false;                               // per-feature z-scores (paper)
  std::uint64_t seed = 0;
  std::string preset = "paper";                           // or "authors-code"
  // authors-code preset (defaults as in the authors' notebook)
  std::int64_t pca_dim = 64;
  std::int64_t authors_lista_layers = 5;
  double contrastive_margin = 1.0;
};

// Throws strata::InputError naming the offending field (as written in a sweep's [moe] table)
// when the configuration cannot describe a model for inputs of width input_dim.
void validate(const MoeConfig& cfg, std::int64_t input_dim);

}  // namespace strata::moe

#include "core/moe/config.h"

#include <cmath>

#include "core/util/error.h"

namespace strata::moe {

namespace {

void check_sparsity(const MoeConfig& cfg) {
  if (cfg.atoms < 1) fail_input("moe.atoms = {}: a dictionary needs at least one atom", cfg.atoms);
  if (cfg.sparsity.empty()) fail_input("moe.sparsity is empty: the mixture needs at least one expert");
  for (std::size_t e = 0; e < cfg.sparsity.size(); ++e) {
    const auto s = cfg.sparsity[e];
    if (s < 1) fail_input("moe.sparsity[{}] = {}: every expert must keep at least one atom", e, s);
    if (s > cfg.atoms)
      fail_input("moe.sparsity[{}] = {} exceeds moe.atoms = {}: an expert cannot use more atoms than it has", e, s,
                 cfg.atoms);
  }
}

void check_training(const MoeConfig& cfg) {
  if (!(cfg.lr > 0.0) || !std::isfinite(cfg.lr)) fail_input("moe.lr = {}: the learning rate must be a positive number", cfg.lr);
  if (cfg.epochs < 1) fail_input("moe.epochs = {}: training needs at least one epoch", cfg.epochs);
  if (cfg.batch_size < 1) fail_input("moe.batch_size = {}: a mini-batch needs at least one point", cfg.batch_size);
}

void check_paper(const MoeConfig& cfg) {
  if (cfg.lista_steps < 1) fail_input("moe.lista_steps = {}: LISTA needs at least one unrolled step", cfg.lista_steps);
  if (cfg.gate != "attention" && cfg.gate != "uniform")
    fail_input("moe.gate = '{}' is not one of: attention, uniform", cfg.gate);
  if (cfg.gate_dim < 1) fail_input("moe.gate_dim = {}: the gate's query space needs at least one dimension", cfg.gate_dim);
  if (!(cfg.load_balance >= 0.0) || !std::isfinite(cfg.load_balance))
    fail_input("moe.load_balance = {}: the coefficient must be zero or positive", cfg.load_balance);
  if (!std::isfinite(cfg.entropy_weight)) fail_input("moe.entropy_weight = {} is not a finite number", cfg.entropy_weight);
}

void check_authors(const MoeConfig& cfg, std::int64_t input_dim) {
  if (cfg.pca_dim < 1 || cfg.pca_dim > input_dim)
    fail_input("moe.pca_dim = {}: the authors-code preset reduces the {}-dimensional inputs by PCA, so it must lie in [1, {}]",
               cfg.pca_dim, input_dim, input_dim);
  if (cfg.authors_lista_layers < 1)
    fail_input("moe.authors_lista_layers = {}: LISTA needs at least one layer", cfg.authors_lista_layers);
  if (!(cfg.contrastive_margin > 0.0) || !std::isfinite(cfg.contrastive_margin))
    fail_input("moe.contrastive_margin = {}: the margin must be a positive number", cfg.contrastive_margin);
  // The authors' procedure has none of these; accepting them would report a run that did
  // not do what its configuration says.
  if (cfg.gate != "attention")
    fail_input("moe.gate = '{}': the authors-code preset routes with its attention gate; give preset = \"paper\" for the "
               "uniform-gate ablation", cfg.gate);
  if (cfg.load_balance != 0.0 || cfg.entropy_weight != 0.0)
    fail_input("moe.load_balance / moe.entropy_weight: the authors-code preset trains a contrastive loss without such terms");
  if (cfg.standardize) fail_input("moe.standardize: the authors-code preset feeds PCA scores, not standardised inputs");
}

}  // namespace

void validate(const MoeConfig& cfg, std::int64_t input_dim) {
  if (input_dim < 1) fail_input("moe: the embeddings have width {}, a model needs at least one feature", input_dim);
  check_sparsity(cfg);
  check_training(cfg);
  if (cfg.preset == "paper") {
    check_paper(cfg);
  } else if (cfg.preset == "authors-code") {
    check_authors(cfg, input_dim);
  } else {
    fail_input("moe.preset = '{}' is not one of: paper, authors-code", cfg.preset);
  }
}

}  // namespace strata::moe

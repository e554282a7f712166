#include "core/moe/config.h"


#include "core/util/error.h"

namespace strata::moe {

namespace {

void check_paper_only(const MoeConfig& cfg) {
  // The authors' procedure has none of these; accepting them would report a run that did
  // not do what its configuration says.
  if (cfg.gate != "attention")
    fail_input("moe.gate = '{}': the authors-code preset routes with its attention gate; give preset = \"paper\" for the "
               "uniform-gate ablation", cfg.gate);
  if (cfg.load_balance != 0.0 || cfg.entropy_weight != 0.0 || cfg.sparsity_cost != 0.0 || cfg.sparsity_warmup != 0)
    fail_input("moe.load_balance / moe.entropy_weight / moe.sparsity_cost / moe.sparsity_warmup: the authors-code preset "
               "trains a contrastive "
               "loss without such terms");
  if (cfg.standardize) fail_input("moe.standardize: the authors-code preset feeds PCA scores, not standardised inputs");
}

}  // namespace

void check(const MoeConfig& cfg) {
  if (cfg.preset == "authors-code") check_paper_only(cfg);
}

void validate(const MoeConfig& cfg, std::int64_t input_dim) {
  // The schema's checks (ranges, choices, sparsity within atoms), so a configuration built in
  // code meets the rules a sweep file meets.
  (void)spec::from_json<MoeConfig>(spec::to_json(cfg), "moe");
  if (input_dim < 1) fail_input("moe: the embeddings have width {}, a model needs at least one feature", input_dim);
  if (cfg.preset == "authors-code" && cfg.pca_dim > input_dim)
    fail_input("moe.pca_dim = {}: the authors-code preset reduces the {}-dimensional inputs by PCA, so it must lie in [1, {}]",
               cfg.pca_dim, input_dim, input_dim);
}

}  // namespace strata::moe

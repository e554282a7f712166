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

double training_bytes(const MoeConfig& cfg, std::int64_t N, std::int64_t L) {
  const double E = static_cast<double>(cfg.sparsity.size()), M = static_cast<double>(cfg.atoms);
  const double width = cfg.preset == "authors-code" ? static_cast<double>(std::min(cfg.pca_dim, L)) : static_cast<double>(L);
  const double steps = static_cast<double>(cfg.preset == "authors-code" ? cfg.authors_lista_layers : cfg.lista_steps);
  // Per expert: a dictionary [width, M], LISTA's W [M, width] and S [M, M] (per layer for the
  // authors' untied layers), thresholds [M]; the gate [Q, L] and its keys [E, Q].
  const double layers = cfg.preset == "authors-code" ? steps : 1;
  const double params = E * (2 * width * M + layers * M * M + M) +
                        static_cast<double>(cfg.gate_dim) * (width + E);
  const double copies = 4 + static_cast<double>(cfg.grad_shards);  // values, gradients, Adam's m and v, shard rows
  const double B = static_cast<double>(std::min(cfg.batch_size, N));
  const double batch = B * E * (steps * M + 2 * width);  // the codes of every step, outputs and residuals
  return 4 * (copies * params + 2 * static_cast<double>(N) * static_cast<double>(L) + batch);
}

bool fusable(const MoeConfig& a, const MoeConfig& b) {
  return a.preset == "paper" && b.preset == "paper" && a.atoms == b.atoms && a.sparsity.size() == b.sparsity.size() &&
         a.lista_steps == b.lista_steps && a.gate == b.gate && a.gate_dim == b.gate_dim && a.epochs == b.epochs &&
         a.batch_size == b.batch_size && a.grad_shards == b.grad_shards && a.standardize == b.standardize;
}

double group_training_bytes(const std::vector<MoeConfig>& cfgs, std::int64_t N, std::int64_t L) {
  const double inputs = 4.0 * 2 * static_cast<double>(N) * static_cast<double>(L);  // shared by the members
  double total = inputs;
  for (const auto& c : cfgs) total += training_bytes(c, N, L) - inputs;
  if (cfgs.size() > 1) {  // the evaluation pass holds every member's copy of a chunk and its codes
    const auto& c = cfgs.front();
    const double rows = static_cast<double>(std::min<std::int64_t>(N, 4096)), E = static_cast<double>(c.sparsity.size());
    total += 4 * static_cast<double>(cfgs.size()) * rows *
             (2 * static_cast<double>(L) + E * static_cast<double>(c.atoms) * static_cast<double>(c.lista_steps + 1));
  }
  return total;
}

void check_memory(const MoeConfig& cfg, std::int64_t N, std::int64_t L, double available, const std::string& where) {
  const double need = training_bytes(cfg, N, L);
  if (available > 0 && need > available)
    fail_input("moe: training {} experts of {} atoms on {} x {} points needs at least {:.1f} GiB, but {} has {:.1f} GiB "
               "(lower moe.atoms, the experts, moe.grad_shards or moe.batch_size)",
               cfg.sparsity.size(), cfg.atoms, N, L, need / (1ULL << 30), where, available / (1ULL << 30));
}

}  // namespace strata::moe

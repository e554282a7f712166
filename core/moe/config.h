#pragma once
// Configuration of one sparse mixture of dictionary experts (a sweep's [moe] table, the train
// job's spec) and its check against the data. The struct and its schema below are the one
// declaration of every MoE setting: parsing, ids, the wire format, archive attributes and the
// sweep reference all come from it.
#include <cstdint>
#include <string>
#include <vector>

#include "core/spec/fields.h"

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
  std::int64_t grad_shards = 1;                           // gradient shards per mini-batch (see trainer.h)
  double load_balance = 0.0, entropy_weight = 0.0;        // optional loss terms (paper)
  double sparsity_cost = 0.0;                             // lambda: + lambda sum_e w_e s_e / L
  std::int64_t sparsity_warmup = 0;                       // epochs over which lambda ramps up from 0
  std::string gate_init = "rms";                          // W_q scaled by 1 / RMS of the inputs, or "unit"
  std::string thresholds = "nonnegative";                 // LISTA thresholds kept >= 0, or "free"
  bool standardize = false;                               // per-feature z-scores (paper)
  std::uint64_t seed = 0;
  std::string preset = "paper";                           // or "authors-code"
  // authors-code preset (defaults as in the authors' notebook)
  std::int64_t pca_dim = 64;
  std::int64_t authors_lista_layers = 5;
  double contrastive_margin = 1.0;

  static const spec::Schema<MoeConfig>& schema();
};

inline const std::vector<std::string>& gate_names() {
  static const std::vector<std::string> names{"attention", "uniform"};
  return names;
}
inline const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> names{"paper", "authors-code"};
  return names;
}

// The rules every configuration meets whatever its data (InputError naming the field).
void check(const MoeConfig& cfg);

inline const spec::Schema<MoeConfig>& MoeConfig::schema() {
  using S = MoeConfig;
  static const auto sc = [] {
    spec::Schema<S> s("moe", "The sparse mixture of dictionary experts, trained once per embedding and point of the grid.",
                      /*grid=*/true);
    s.add(spec::field(&S::atoms, "atoms", "atoms per dictionary (M)", spec::range(1, 1 << 16)))
        .add(spec::field(&S::sparsity, "sparsity", "one sparsity level per expert (s_e; E = its length)",
                         spec::range(1, 1 << 16), spec::kNonEmpty, "sparsity_sets"))
        .add(spec::field(&S::lista_steps, "lista_steps", "unrolled LISTA steps (K)", spec::range(1, 64)))
        .add(spec::field(&S::gate, "gate", "attention, or uniform (the ablation without a gate)", spec::one_of(gate_names())))
        .add(spec::field(&S::lr, "lr", "Adam's learning rate", spec::above(0, 10)))
        .add(spec::field(&S::seed, "seed", "the training seed (initialisation and batch order)", spec::range(0, 9e15),
                         spec::kNone, "seeds"))
        .add(spec::field(&S::gate_dim, "gate_dim", "the gate's query dimension (Q)", spec::range(1, 1 << 16)))
        .add(spec::field(&S::epochs, "epochs", "passes over the embedding", spec::range(1, 1 << 24)))
        .add(spec::field(&S::batch_size, "batch_size", "points per mini-batch", spec::range(1, 1 << 24)))
        .add(spec::field(&S::grad_shards, "grad_shards",
                         "every mini-batch is cut into this many shards, whose gradients are computed alone and "
                         "summed in shard order: the model is the same, bit for bit on the CPU, whatever the number "
                         "of ranks training it ([cluster] ranks_per_train_job may be at most this)",
                         spec::range(1, 4096)))
        .add(spec::field(&S::load_balance, "load_balance", "weight of the load-balancing term (paper preset)",
                         spec::range(0, 1e6)))
        .add(spec::field(&S::entropy_weight, "entropy_weight",
                         "weight of the gating-entropy term (> 0 sharpens, < 0 spreads; paper preset)", spec::range(-1e6, 1e6)))
        .add(spec::field(&S::sparsity_cost, "sparsity_cost",
                         "lambda of the per-atom cost on the gate: + lambda mean_b sum_e w_be s_e / L (paper preset; "
                         "0: the paper's loss)", spec::range(0, 1e6)))
        .add(spec::field(&S::sparsity_warmup, "sparsity_warmup",
                         "epochs over which sparsity_cost ramps up linearly from 0 (0: full from the start)",
                         spec::range(0, 1 << 24)))
        .add(spec::field(&S::gate_init, "gate_init",
                         "rms: W_q drawn with standard deviation 1/(sqrt(L) RMS(x)), so the gate's scores start near "
                         "unit scale whatever the inputs' scale; unit: 1/sqrt(L) (paper preset)",
                         spec::one_of({"rms", "unit"})))
        .add(spec::field(&S::thresholds, "thresholds",
                         "nonnegative: LISTA's soft thresholds are projected to >= 0 after every step, so they only "
                         "shrink codes; free: they may go negative and expand them (paper preset)",
                         spec::one_of({"nonnegative", "free"})))
        .add(spec::field(&S::standardize, "standardize", "per-feature z-scores of the inputs (paper preset)"))
        .add(spec::field(&S::preset, "preset", "paper: the paper's equations; authors-code: the authors' published procedure",
                         spec::one_of(preset_names())))
        .add(spec::field(&S::pca_dim, "pca_dim", "authors-code: PCA dimension of the inputs", spec::range(1, 1 << 16)))
        .add(spec::field(&S::authors_lista_layers, "authors_lista_layers", "authors-code: untied LISTA layers",
                         spec::range(1, 64)))
        .add(spec::field(&S::contrastive_margin, "contrastive_margin", "authors-code: margin of the contrastive loss",
                         spec::above(0, 1e6)));
    s.check([](const S& c, const spec::Reader& r, const std::string& where) {
      for (std::size_t e = 0; e < c.sparsity.size(); ++e)
        if (c.sparsity[e] > c.atoms) {
          const bool given = r.has(spec::Reader::child(where, "sparsity")) || r.has(spec::Reader::child(where, "sparsity_sets"));
          if (!given)
            r.fail(spec::Reader::child(where, "atoms"),
                   "moe.atoms = {} is below the default sparsity set's largest level ({}); give moe.sparsity", c.atoms,
                   c.sparsity[e]);
          const std::string at = spec::Reader::child(where, r.has(spec::Reader::child(where, "sparsity")) ? "sparsity" : "sparsity_sets");
          r.fail(at, "moe.sparsity: sparsity level {} exceeds the number of atoms ({}): an expert cannot use more atoms "
                     "than it has", c.sparsity[e], c.atoms);
        }
      try {
        check(c);
      } catch (const InputError& e) {
        r.fail(where, "{}", e.what());
      }
    });
    return s;
  }();
  return sc;
}

// Throws strata::InputError naming the offending field (as written in a sweep's [moe] table)
// when the configuration cannot describe a model for inputs of width input_dim.
void validate(const MoeConfig& cfg, std::int64_t input_dim);

// Configurations that can train together as one model: the paper preset, equal shapes
// (atoms, experts, LISTA steps, gate, gate_dim), epochs, batch size, gradient shards and input
// transform. Seeds, sparsity levels, learning rates, gate_init, thresholds and loss weights may
// differ.
bool fusable(const MoeConfig& a, const MoeConfig& b);

// A lower bound of the bytes training takes for N points of width L (paper preset: the
// parameters with their gradients, Adam's two moments and the gradient-shard rows, the inputs
// and one mini-batch's codes; the authors-code preset: its parameters the same way on pca_dim).
double training_bytes(const MoeConfig& cfg, std::int64_t N, std::int64_t L);
// The same for configurations trained together as one model (the inputs counted once).
double group_training_bytes(const std::vector<MoeConfig>& cfgs, std::int64_t N, std::int64_t L);
// Refuses (InputError, with the numbers) a training whose lower bound exceeds `available`
// bytes, before anything is allocated.
void check_memory(const MoeConfig& cfg, std::int64_t N, std::int64_t L, double available, const std::string& where);

}  // namespace strata::moe

#pragma once
// Training of the sparse mixture of dictionary experts: the entry point train_moe() and the
// pieces it is made of (public so that tests can follow a run step by step).
//
// A run, deterministic on the CPU for a seed:
//   1. inputs: standardised (paper, optional) or PCA-reduced (authors-code), see input_transform.h;
//   2. parameters drawn from init_generator(seed) on the CPU (paper_model.h, authors_model.h),
//      broadcast from rank 0 when a process group of several ranks is given;
//   3. every epoch: a permutation of the points from shuffle_generator(seed) (one draw per
//      epoch), cut into consecutive mini-batches of batch_size (the last one may be smaller);
//      each mini-batch is cut into grad_shards consecutive shards (tensor_split). The batch's
//      loss is sum_s (n_s / n) loss(shard s); each shard's gradient is computed alone, scaled by
//      n_s / n, and the shard gradients are added in shard order, starting from zero. With a
//      group of R ranks, rank r computes the shards s with s % R == r and puts them in its rows
//      of a [grad_shards, P] buffer of zeros; an allreduce_sum of that buffer adds only zeros to
//      each row (exact), so every rank holds every shard's gradient as computed, and the ordered
//      sum is the one of a single process: the model does not depend on R (bit for bit on the
//      CPU). Then Adam (core/moe/optimizer.h, defaults but lr) steps and the model projects its
//      parameters (unit-norm dictionary columns);
//   4. the loss of an epoch is the mean over its points of the shard losses (each shard weighted
//      by its size), summed per shard over the epoch and then over shards in shard order;
//   5. evaluation on all points without gradients.
// With a group of several ranks, a rank that fails tells the others at the next collective
// point (after its setup, at the end of an epoch) and every rank throws, none left waiting.
//
// Several configurations of equal shapes (fusable(), config.h) train as one batched model on one device
// (train_moe_group): each member draws its own parameters and batch order from its own seed,
// has its own loss, learning rate and thresholds rule, and its gradients are its loss's alone
// (the group's objective is the members' sum, whose gradient for a member's parameters is that
// member's). Training one configuration is a group of one, so a member's result is the one it
// has alone: on the CPU bit for bit (ties between equal code magnitudes in top-s aside).
#include <torch/torch.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/parallel/process_group.h"
#include "core/moe/config.h"
#include "core/moe/model.h"
#include "core/moe/optimizer.h"

namespace strata::moe {

struct TrainResult {
  std::vector<double> loss;  // per epoch, see 4. above
  // Final parameters by archive name. paper: "dictionaries" [E,L,M], "lista_W" [E,M,L],
  // "lista_S" [E,M,M], "lista_theta" [E,M], "gate_Wq" [Q,L], "gate_keys" [E,Q] (attention gate),
  // "input_mean"/"input_std" [L] (standardize). authors-code: see AuthorsMoe::parameters()
  // and "pca_mean" [L], "pca_components" [P,L].
  NamedTensors params;
  torch::Tensor gating;        // [N,E] float32 gate probabilities (authors-code: its softmax)
  torch::Tensor recon_error;   // [N] float32 ||x - y||^2 summed over features, in the space the
                               // model sees (standardised; authors-code: PCA scores vs D_sel z_sel)
  torch::Tensor support;       // [N,E,M] uint8: atoms with a non-zero final code per expert
  torch::Tensor selected;      // [N] int64: argmax of gating (authors-code: its routing rule)
  torch::Tensor sparsity;      // [E] float32
  torch::Tensor dictionaries;  // [E,L,M] float32 (authors-code: [E,P,M] in PCA space, untrained)
  double seconds = 0;          // wall time of the optimisation (all epochs), inputs and evaluation excluded
                               // (a group's: the group's, shared by its members)
  std::string failure;         // train_moe_group: why this member failed ("" if it did not)
};

// X [N, L] floating point; labels [N] integer (used by authors-code only; may be undefined for
// the paper preset). Throws InputError for a configuration or data the model cannot take, and
// for one whose memory lower bound (training_bytes) exceeds `memory` bytes: what `device` offers
// (0: the host's physical memory on the CPU; not checked on a GPU).
TrainResult train_moe(const torch::Tensor& X, const torch::Tensor& labels, const MoeConfig& cfg, torch::Device device,
                      parallel::ProcessGroup* group = nullptr, double memory = 0);

// Trains every configuration of `cfgs` (pairwise fusable) together on `device`, one process.
// A member whose loss stops being finite fails alone (TrainResult::failure, its other fields
// empty); an error of the inputs or of the configurations throws. `memory` as for train_moe,
// for the whole group.
std::vector<TrainResult> train_moe_group(const torch::Tensor& X, const std::vector<MoeConfig>& cfgs, torch::Device device,
                                         double memory = 0);

torch::Generator init_generator(std::uint64_t seed);
torch::Generator shuffle_generator(std::uint64_t seed);

// The model of cfg.preset for the inputs X [N, L] (as the model sees them; their RMS scales the
// gate with gate_init = "rms"), parameters drawn from gen.
std::unique_ptr<MoeModel> make_model(const MoeConfig& cfg, const torch::Tensor& X, torch::Generator& gen,
                                     torch::Device device);
// The paper model of fusable configurations, member g's parameters drawn from init_generator of
// its seed.
std::unique_ptr<MoeModel> make_group_model(const std::vector<MoeConfig>& cfgs, const torch::Tensor& X,
                                           torch::Device device);

// One epoch's order of the n points (CPU int64), drawn from gen.
torch::Tensor epoch_permutation(torch::Generator& gen, std::int64_t n);

class Trainer {
 public:
  // `shards`: gradient shards per mini-batch (MoeConfig::grad_shards); a group may have at most
  // that many ranks. `lrs`: each member's learning rate.
  Trainer(MoeModel& model, double lr, parallel::ProcessGroup* group, std::int64_t shards = 1);
  Trainer(MoeModel& model, const std::vector<double>& lrs, parallel::ProcessGroup* group, std::int64_t shards = 1);

  // Every rank takes rank 0's parameters (no-op for a single process).
  void synchronize_parameters();

  // One optimiser step on the mini-batch `index` (rows of X and labels, all on the model's
  // device; [G, B]: row g is member g's, or [B] for a model of one member), of which this rank
  // computes its shards. Returns [shards, G] float64 on the device: each shard's loss times its
  // points for this rank's shards, zero for the others, so that epochs add these up without
  // reading them back.
  // With a group of several ranks, an error in this rank's shards is kept (not thrown) and
  // the rank goes on taking part in the gradient sums, adding nothing, until end_epoch.
  torch::Tensor step(const torch::Tensor& X, const torch::Tensor& labels, const torch::Tensor& index);

  // The epoch's summed loss from this rank's sum of step() results: the shards' sums over all
  // ranks, added in shard order (the one read-back of the epoch). Collective with a group:
  // when some rank's share failed, every rank throws (that rank its own error, the others
  // parallel::GroupFailure), so no rank is left waiting in a collective.
  // Each member's ([G]); end_epoch: a model of one member's.
  std::vector<double> end_epoch_members(const torch::Tensor& summed);
  double end_epoch(const torch::Tensor& summed);

 private:
  torch::Tensor shard_step(const torch::Tensor& X, const torch::Tensor& labels, const torch::Tensor& shard);
  void set_gradients(const torch::Tensor& flat);

  MoeModel& model_;
  std::vector<torch::Tensor> params_;
  Adam adam_;
  parallel::ProcessGroup* group_;
  std::int64_t shards_;
  std::exception_ptr error_;  // the failure of this rank's share, kept until end_epoch
  torch::Tensor rows_;        // [shards, P]: each shard's gradient, reused by every step
};

}  // namespace strata::moe

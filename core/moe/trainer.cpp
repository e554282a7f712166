#include "core/moe/trainer.h"

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>

#include "core/moe/authors_model.h"
#include "core/moe/input_transform.h"
#include "core/moe/paper_model.h"
#include "core/util/crash_point.h"
#include "core/util/error.h"
#include "core/util/host_memory.h"
#include "core/util/log.h"

namespace strata::moe {

namespace {

// SplitMix64 finaliser: a seed for the shuffling stream that is unrelated to the init stream.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

bool distributed(const parallel::ProcessGroup* g) { return g != nullptr && g->size() > 1; }

torch::Tensor checked_inputs(const torch::Tensor& X) {
  if (!X.defined() || X.dim() != 2 || X.size(0) < 1)
    fail_input("moe: the embeddings must be a non-empty [N, L] matrix, got {} dimensions", X.defined() ? X.dim() : 0);
  if (!X.is_floating_point()) fail_input("moe: the embeddings must be floating point, got {}", c10::toString(X.scalar_type()));
  if (!torch::isfinite(X).all().item<bool>()) fail_input("moe: the embeddings contain NaN or infinite values");
  return X.to(torch::kCPU, torch::kFloat32);
}

torch::Tensor checked_labels(const torch::Tensor& labels, const MoeConfig& cfg, std::int64_t n) {
  if (cfg.preset != "authors-code") return {};
  if (!labels.defined() || labels.dim() != 1 || labels.size(0) != n)
    fail_input("moe.preset = authors-code trains on the corpus labels: expected {} labels, got {}", n,
               labels.defined() ? labels.numel() : 0);
  if (labels.is_floating_point() || labels.is_complex()) fail_input("moe: the labels must be integers");
  return labels.to(torch::kCPU, torch::kInt64);
}

// What training may use: `memory` where the caller knows it, else the host's physical memory on
// the CPU (0 on a GPU: not checked).
double available_memory(torch::Device device, double memory) {
  if (memory > 0) return memory;
  return device.is_cpu() ? host_memory_bytes() : 0;
}

torch::Tensor host_copy(const torch::Tensor& t) { return t.detach().to(torch::kCPU).contiguous().clone(); }

}  // namespace

torch::Generator init_generator(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

torch::Generator shuffle_generator(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(mix(seed)); }

std::unique_ptr<MoeModel> make_model(const MoeConfig& cfg, const torch::Tensor& X, torch::Generator& gen,
                                     torch::Device device) {
  const auto input_dim = X.size(1);
  if (cfg.preset == "authors-code")
    return std::make_unique<AuthorsMoe>(cfg, init_authors_params(cfg, input_dim, gen), device);
  auto p = init_paper_params(cfg, input_dim, gen);
  if (cfg.gate_init == "rms" && p.gate_Wq.defined()) {
    // In float64 on the CPU, so every device and rank starts from the same weights.
    const double rms = X.to(torch::kCPU, torch::kFloat64).square().mean().sqrt().item<double>();
    if (rms > 0 && std::isfinite(rms)) p.gate_Wq = (p.gate_Wq.to(torch::kFloat64) / rms).to(torch::kFloat32);
  }
  return std::make_unique<PaperMoe>(cfg, std::move(p), device);
}

torch::Tensor epoch_permutation(torch::Generator& gen, std::int64_t n) {
  return torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kInt64));
}

Trainer::Trainer(MoeModel& model, double lr, parallel::ProcessGroup* group, std::int64_t shards)
    : model_(model), params_(model.trainable()), adam_(params_, lr), group_(group), shards_(shards) {
  if (shards_ < 1) fail_input("moe.grad_shards = {} must be at least 1", shards_);
  if (distributed(group_) && group_->size() > shards_)
    fail_input("a train job on {} ranks needs moe.grad_shards >= {} (each rank computes whole gradient shards); "
               "it is {}",
               group_->size(), group_->size(), shards_);
}

void Trainer::synchronize_parameters() {
  if (!distributed(group_)) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flat;
  for (const auto& [name, p] : model_.parameters()) flat.push_back(p.reshape(-1));
  auto buf = torch::cat(flat);
  group_->broadcast(buf, 0);
  std::int64_t at = 0;
  for (const auto& [name, p] : model_.parameters()) {
    const auto n = p.numel();
    p.copy_(buf.slice(0, at, at + n).view_as(p));
    at += n;
  }
}

// The loss of one shard, its gradients left in the parameters' .grad.
torch::Tensor Trainer::shard_step(const torch::Tensor& X, const torch::Tensor& labels, const torch::Tensor& shard) {
  adam_.zero_grad();
  const auto lb = labels.defined() ? labels.index_select(0, shard) : torch::Tensor();
  const auto loss = model_.batch_loss(X.index_select(0, shard), lb);
  loss.backward();
  return loss.detach().to(torch::kFloat64);
}

void Trainer::set_gradients(const torch::Tensor& flat) {
  std::int64_t at = 0;
  for (auto& p : params_) {
    const auto n = p.numel();
    p.mutable_grad() = flat.slice(0, at, at + n).view_as(p).clone();  // owned: zero_grad detaches it in place
    at += n;
  }
}

torch::Tensor Trainer::step(const torch::Tensor& X, const torch::Tensor& labels, const torch::Tensor& index) {
  auto losses = torch::zeros({shards_}, X.options().dtype(torch::kFloat64));
  const bool many = distributed(group_);
  if (shards_ == 1 && !many) {  // the whole batch is the one shard: its gradients are used as they are
    losses[0] = shard_step(X, labels, index) * static_cast<double>(index.size(0));
    adam_.step();
    model_.after_step();
    return losses;
  }
  const int ranks = many ? group_->size() : 1, me = many ? group_->rank() : 0;
  if (!rows_.defined()) {  // one [shards, P] buffer for every step
    std::int64_t count = 0;
    for (const auto& p : params_) count += p.numel();
    rows_ = torch::empty({shards_, count}, params_.front().options());
  }
  auto& rows = rows_;
  rows.zero_();
  const auto shards = index.tensor_split(shards_);
  const double n = static_cast<double>(index.size(0));
  for (std::int64_t s = me; s < shards_; s += ranks) {
    const auto& shard = shards[static_cast<std::size_t>(s)];
    if (shard.size(0) == 0 || error_) continue;
    try {
      losses[s] = shard_step(X, labels, shard) * static_cast<double>(shard.size(0));
      std::vector<torch::Tensor> flat;
      for (const auto& p : params_)
        flat.push_back(p.grad().defined() ? p.grad().reshape(-1) : torch::zeros({p.numel()}, p.options()));
      rows[s].copy_(torch::cat(flat) * (static_cast<double>(shard.size(0)) / n));
    } catch (...) {
      // The other ranks wait for this one in the gradient sum: it goes on taking part, adding
      // nothing, until end_epoch tells every rank (one read-back per epoch, not per step).
      if (!many) throw;
      error_ = std::current_exception();
      rows.zero_();
      losses.zero_();
    }
  }
  if (many) group_->allreduce_sum(rows);
  // From zero, in shard order: 0 + x is x for every x but -0, which an allreduce also makes +0.
  auto sum = torch::zeros({rows.size(1)}, rows.options());
  for (std::int64_t s = 0; s < shards_; ++s) sum += rows[s];
  set_gradients(sum);
  adam_.step();
  model_.after_step();
  return losses;
}

double Trainer::end_epoch(const torch::Tensor& summed) {
  auto sums = summed.reshape(-1);
  const auto shards = sums.size(0);
  if (distributed(group_)) {  // the shards' sums and, last, how many ranks failed
    sums = torch::cat({sums, torch::full({1}, error_ ? 1.0 : 0.0, sums.options())});
    group_->allreduce_sum(sums);
  }
  const auto host = sums.to(torch::kCPU, torch::kFloat64).contiguous();  // the one read-back of the epoch
  const double* v = host.data_ptr<double>();
  if (error_) std::rethrow_exception(error_);
  const auto others = distributed(group_) ? static_cast<int>(v[shards]) : 0;
  if (others == 1)
    throw parallel::GroupFailure("stopped: another rank of its data-parallel group failed during training");
  if (others > 1)
    throw parallel::GroupFailure(
        fmt::format("stopped: {} other ranks of its data-parallel group failed during training", others));
  double total = 0;
  for (std::int64_t s = 0; s < shards; ++s) total += v[s];  // in shard order
  return total;
}

TrainResult train_moe(const torch::Tensor& X, const torch::Tensor& labels, const MoeConfig& cfg, torch::Device device,
                      parallel::ProcessGroup* group, double memory) {
  // Each rank sets up alone; one that fails here tells the others, which would otherwise
  // wait for it in the parameter broadcast.
  torch::Tensor Xd, labels_d;
  PreparedInputs inputs;
  std::unique_ptr<MoeModel> model;
  auto order_gen = shuffle_generator(cfg.seed);
  parallel::run_together(group, device, [&] {
    validate(cfg, X.dim() == 2 ? X.size(1) : 1);
    if (X.dim() == 2) check_memory(cfg, X.size(0), X.size(1), available_memory(device, memory), device.is_cpu() ? "this host" : device.str());
    const auto Xc = checked_inputs(X);
    const auto labels_c = checked_labels(labels, cfg, Xc.size(0));
    inputs = prepare_inputs(Xc, cfg);
    Xd = inputs.X.to(device);
    labels_d = labels_c.defined() ? labels_c.to(device) : torch::Tensor();
    auto init_gen = init_generator(cfg.seed);
    model = make_model(cfg, inputs.X, init_gen, device);
  });
  const auto N = Xd.size(0);
  Trainer trainer(*model, cfg.lr, group, cfg.grad_shards);
  trainer.synchronize_parameters();

  TrainResult r;
  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t epoch = 0; epoch < cfg.epochs; ++epoch) {
    const auto order = epoch_permutation(order_gen, N).to(device);
    model->begin_epoch(epoch);
    auto total = torch::zeros({cfg.grad_shards}, Xd.options().dtype(torch::kFloat64));
    for (const auto& batch : order.split(cfg.batch_size)) total += trainer.step(Xd, labels_d, batch);
    r.loss.push_back(trainer.end_epoch(total) / static_cast<double>(N));  // the one read-back per epoch
    log::debug("moe: epoch {}/{} loss {:.6g}", epoch + 1, cfg.epochs, r.loss.back());
    if (epoch + 1 == std::max<std::int64_t>(1, cfg.epochs / 2)) crash_point("train");
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const auto ev = model->evaluate(Xd);
  for (const auto& [name, t] : model->parameters()) r.params.emplace_back(name, host_copy(t));
  for (const auto& [name, t] : inputs.stats) r.params.emplace_back(name, host_copy(t));
  r.gating = host_copy(ev.gating);
  r.recon_error = host_copy(ev.recon_error);
  r.support = host_copy(ev.support);
  r.selected = host_copy(ev.selected);
  r.sparsity = torch::tensor(cfg.sparsity, torch::kInt64).to(torch::kFloat32);
  r.dictionaries = host_copy(model->dictionaries()).to(torch::kFloat32);
  return r;
}

}  // namespace strata::moe

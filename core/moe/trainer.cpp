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

// The paper's initial parameters for inputs X, drawn from gen; with gate_init = "rms" the gate's
// W_q divided by the inputs' RMS, in float64 on the CPU so every device and rank starts alike.
PaperParams paper_params(const MoeConfig& cfg, const torch::Tensor& X, torch::Generator& gen) {
  auto p = init_paper_params(cfg, X.size(1), gen);
  if (cfg.gate_init == "rms" && p.gate_Wq.defined()) {
    const double rms = X.to(torch::kCPU, torch::kFloat64).square().mean().sqrt().item<double>();
    if (rms > 0 && std::isfinite(rms)) p.gate_Wq = (p.gate_Wq.to(torch::kFloat64) / rms).to(torch::kFloat32);
  }
  return p;
}

// Every member's trainable tensors, member after member, and each one's learning rate.
std::vector<torch::Tensor> all_trainable(const MoeModel& m) {
  std::vector<torch::Tensor> out;
  for (std::int64_t g = 0; g < m.members(); ++g)
    for (auto& t : m.trainable(g)) out.push_back(t);
  return out;
}

std::vector<double> per_tensor(const MoeModel& m, const std::vector<double>& lrs) {
  if (static_cast<std::int64_t>(lrs.size()) != m.members())
    fail_run("moe: {} learning rates for {} models", lrs.size(), m.members());
  std::vector<double> out;
  for (std::int64_t g = 0; g < m.members(); ++g)
    out.insert(out.end(), m.trainable(g).size(), lrs[static_cast<std::size_t>(g)]);
  return out;
}

}  // namespace

torch::Generator init_generator(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

torch::Generator shuffle_generator(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(mix(seed)); }

std::unique_ptr<MoeModel> make_model(const MoeConfig& cfg, const torch::Tensor& X, torch::Generator& gen,
                                     torch::Device device) {
  if (cfg.preset == "authors-code")
    return std::make_unique<AuthorsMoe>(cfg, init_authors_params(cfg, X.size(1), gen), device);
  return std::make_unique<PaperMoe>(cfg, paper_params(cfg, X, gen), device);
}

std::unique_ptr<MoeModel> make_group_model(const std::vector<MoeConfig>& cfgs, const torch::Tensor& X,
                                           torch::Device device) {
  std::vector<PaperParams> params;
  for (const auto& cfg : cfgs) {
    if (cfg.preset != "paper") fail_input("moe: only the paper preset trains in groups");
    auto gen = init_generator(cfg.seed);
    params.push_back(paper_params(cfg, X, gen));
  }
  return std::make_unique<PaperMoe>(cfgs, std::move(params), device);
}

torch::Tensor epoch_permutation(torch::Generator& gen, std::int64_t n) {
  return torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kInt64));
}

Trainer::Trainer(MoeModel& model, double lr, parallel::ProcessGroup* group, std::int64_t shards)
    : Trainer(model, std::vector<double>(static_cast<std::size_t>(model.members()), lr), group, shards) {}

Trainer::Trainer(MoeModel& model, const std::vector<double>& lrs, parallel::ProcessGroup* group, std::int64_t shards)
    : model_(model), params_(all_trainable(model)), adam_(params_, per_tensor(model, lrs)), group_(group), shards_(shards) {
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

// The members' losses [G] on one shard [G, b] (row g: member g's points), their gradients left
// in the parameters' .grad.
torch::Tensor Trainer::shard_step(const torch::Tensor& X, const torch::Tensor& labels, const torch::Tensor& shard) {
  adam_.zero_grad();
  const auto G = shard.size(0), b = shard.size(1);
  const auto rows = shard.reshape(-1);
  const auto lb = labels.defined() ? labels.index_select(0, rows).view({G, b}) : torch::Tensor();
  const auto loss = model_.batch_loss(X.index_select(0, rows).view({G, b, X.size(1)}), lb);
  loss.sum().backward();  // a member's parameters get its own loss's gradient: the sum's other terms do not reach them
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

torch::Tensor Trainer::step(const torch::Tensor& X, const torch::Tensor& labels, const torch::Tensor& batch) {
  const auto index = batch.dim() == 1 ? batch.unsqueeze(0) : batch;  // [G, B]
  if (index.size(0) != model_.members())
    fail_run("moe: a batch of {} rows of indices for {} models", index.size(0), model_.members());
  auto losses = torch::zeros({shards_, index.size(0)}, X.options().dtype(torch::kFloat64));
  const bool many = distributed(group_);
  if (shards_ == 1 && !many) {  // the whole batch is the one shard: its gradients are used as they are
    losses[0] = shard_step(X, labels, index) * static_cast<double>(index.size(1));
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
  const auto shards = index.tensor_split(shards_, /*dim=*/1);
  const double n = static_cast<double>(index.size(1));
  for (std::int64_t s = me; s < shards_; s += ranks) {
    const auto& shard = shards[static_cast<std::size_t>(s)];
    if (shard.size(1) == 0 || error_) continue;
    try {
      losses[s] = shard_step(X, labels, shard) * static_cast<double>(shard.size(1));
      std::vector<torch::Tensor> flat;
      for (const auto& p : params_)
        flat.push_back(p.grad().defined() ? p.grad().reshape(-1) : torch::zeros({p.numel()}, p.options()));
      rows[s].copy_(torch::cat(flat) * (static_cast<double>(shard.size(1)) / n));
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

std::vector<double> Trainer::end_epoch_members(const torch::Tensor& summed) {
  const auto G = summed.dim() == 2 ? summed.size(1) : 1;
  auto sums = summed.reshape(-1);  // shard-major: [shards * G]
  const auto shards = sums.size(0) / G;
  if (distributed(group_)) {  // the shards' sums and, last, how many ranks failed
    sums = torch::cat({sums, torch::full({1}, error_ ? 1.0 : 0.0, sums.options())});
    group_->allreduce_sum(sums);
  }
  const auto host = sums.to(torch::kCPU, torch::kFloat64).contiguous();  // the one read-back of the epoch
  const double* v = host.data_ptr<double>();
  if (error_) std::rethrow_exception(error_);
  const auto others = distributed(group_) ? static_cast<int>(v[shards * G]) : 0;
  if (others == 1)
    throw parallel::GroupFailure("stopped: another rank of its data-parallel group failed during training");
  if (others > 1)
    throw parallel::GroupFailure(
        fmt::format("stopped: {} other ranks of its data-parallel group failed during training", others));
  std::vector<double> total(static_cast<std::size_t>(G), 0.0);
  for (std::int64_t s = 0; s < shards; ++s)  // in shard order
    for (std::int64_t g = 0; g < G; ++g) total[static_cast<std::size_t>(g)] += v[s * G + g];
  return total;
}

double Trainer::end_epoch(const torch::Tensor& summed) {
  const auto total = end_epoch_members(summed);
  if (total.size() != 1) fail_run("moe: end_epoch of a model of {} members", total.size());
  return total.front();
}

namespace {

// The epochs of training: each member's loss per epoch (trainer.h, 4.); a member whose loss is
// not finite gets its failure in `failures` (its training goes on, touching no other member).
std::vector<std::vector<double>> run_epochs(MoeModel& model, Trainer& trainer, const torch::Tensor& Xd,
                                            const torch::Tensor& labels_d, const std::vector<MoeConfig>& cfgs,
                                            std::vector<std::string>& failures) {
  const auto N = Xd.size(0);
  const auto& cfg = cfgs.front();  // epochs, batch size and shards are the group's
  std::vector<torch::Generator> order_gens;
  for (const auto& c : cfgs) order_gens.push_back(shuffle_generator(c.seed));
  std::vector<std::vector<double>> losses(cfgs.size());
  failures.assign(cfgs.size(), "");
  for (std::int64_t epoch = 0; epoch < cfg.epochs; ++epoch) {
    std::vector<torch::Tensor> orders;
    for (auto& gen : order_gens) orders.push_back(epoch_permutation(gen, N));
    const auto order = torch::stack(orders).to(Xd.device());  // [G, N]
    model.begin_epoch(epoch);
    auto total = torch::zeros({cfg.grad_shards, static_cast<std::int64_t>(cfgs.size())}, Xd.options().dtype(torch::kFloat64));
    for (const auto& batch : order.split(cfg.batch_size, /*dim=*/1)) total += trainer.step(Xd, labels_d, batch);
    const auto sums = trainer.end_epoch_members(total);  // the one read-back per epoch
    for (std::size_t g = 0; g < cfgs.size(); ++g) {
      losses[g].push_back(sums[g] / static_cast<double>(N));
      if (failures[g].empty() && !std::isfinite(losses[g].back()))
        failures[g] = fmt::format("moe: training diverged: the loss is {} after epoch {} of {} (lower moe.lr = {})",
                                  losses[g].back(), epoch + 1, cfgs[g].epochs, cfgs[g].lr);
    }
    log::debug("moe: epoch {}/{} loss {:.6g}", epoch + 1, cfg.epochs, losses.front().back());
    if (epoch + 1 == std::max<std::int64_t>(1, cfg.epochs / 2)) crash_point("train");
  }
  return losses;
}

// Member g's result from the trained model and its evaluation.
TrainResult member_result(const MoeModel& model, std::int64_t g, const Evaluation& ev, const PreparedInputs& inputs,
                          const MoeConfig& cfg) {
  TrainResult r;
  for (const auto& [name, t] : model.parameters(g)) r.params.emplace_back(name, host_copy(t));
  for (const auto& [name, t] : inputs.stats) r.params.emplace_back(name, host_copy(t));
  r.gating = host_copy(ev.gating);
  r.recon_error = host_copy(ev.recon_error);
  r.support = host_copy(ev.support);
  r.selected = host_copy(ev.selected);
  r.sparsity = torch::tensor(cfg.sparsity, torch::kInt64).to(torch::kFloat32);
  r.dictionaries = host_copy(model.dictionaries(g)).to(torch::kFloat32);
  return r;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TrainResult train_moe(const torch::Tensor& X, const torch::Tensor& labels, const MoeConfig& cfg, torch::Device device,
                      parallel::ProcessGroup* group, double memory) {
  // Each rank sets up alone; one that fails here tells the others, which would otherwise
  // wait for it in the parameter broadcast.
  torch::Tensor Xd, labels_d;
  PreparedInputs inputs;
  std::unique_ptr<MoeModel> model;
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
  Trainer trainer(*model, cfg.lr, group, cfg.grad_shards);
  trainer.synchronize_parameters();
  std::vector<std::string> failures;
  const auto start = std::chrono::steady_clock::now();
  auto losses = run_epochs(*model, trainer, Xd, labels_d, {cfg}, failures);
  const double seconds = seconds_since(start);
  if (!failures.front().empty()) fail_run("{}", failures.front());
  auto r = member_result(*model, 0, model->evaluate(Xd).front(), inputs, cfg);
  r.loss = std::move(losses.front());
  r.seconds = seconds;
  return r;
}

std::vector<TrainResult> train_moe_group(const torch::Tensor& X, const std::vector<MoeConfig>& cfgs, torch::Device device,
                                         double memory) {
  if (cfgs.empty()) return {};
  for (const auto& c : cfgs) {
    validate(c, X.dim() == 2 ? X.size(1) : 1);
    if (!fusable(cfgs.front(), c)) fail_run("moe: configurations of different shapes cannot train as one model");
  }
  const auto Xc = checked_inputs(X);
  const double need = group_training_bytes(cfgs, Xc.size(0), Xc.size(1)), available = available_memory(device, memory);
  if (available > 0 && need > available)
    fail_run("moe: training {} models together on {} x {} points needs at least {:.1f} GiB, but {} has {:.1f} GiB",
             cfgs.size(), Xc.size(0), Xc.size(1), need / (1ULL << 30), device.str(), available / (1ULL << 30));
  const auto inputs = prepare_inputs(Xc, cfgs.front());  // fusable: one input transform for all
  const auto Xd = inputs.X.to(device);
  auto model = make_group_model(cfgs, inputs.X, device);
  std::vector<double> lrs;
  for (const auto& c : cfgs) lrs.push_back(c.lr);
  Trainer trainer(*model, lrs, nullptr, cfgs.front().grad_shards);
  std::vector<std::string> failures;
  const auto start = std::chrono::steady_clock::now();
  auto losses = run_epochs(*model, trainer, Xd, torch::Tensor(), cfgs, failures);
  const double seconds = seconds_since(start);
  const auto evaluations = model->evaluate(Xd);
  std::vector<TrainResult> out(cfgs.size());
  for (std::size_t g = 0; g < cfgs.size(); ++g) {
    if (!failures[g].empty()) {
      out[g].failure = failures[g];
      continue;
    }
    out[g] = member_result(*model, static_cast<std::int64_t>(g), evaluations[g], inputs, cfgs[g]);
    out[g].loss = std::move(losses[g]);
    out[g].seconds = seconds;
  }
  return out;
}

}  // namespace strata::moe

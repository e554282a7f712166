// Follows one strata::moe training run step by step and writes every intermediate as .npy, so
// that a Python implementation can recompute the same run from the same initial weights and
// batch order (tests/parity/test_moe_*.py).
//
//   moe_step_dump DIR         reads DIR/config.json, DIR/X.npy and (authors-code) DIR/labels.npy
//
// config.json: the MoeConfig fields by name plus "steps" (optimiser steps to follow one by one).
// Writes into DIR:
//   inputs.npy                 the model's inputs (standardised / PCA scores / X)
//   stat_<name>.npy            input statistics (input_mean, pca_components, ...)
//   init_<name>.npy            initial parameters
//   order_<epoch>.npy          each epoch's permutation of the points
//   fwd_<output>.npy           forward outputs on the first mini-batch at the initial weights
//   grad_<name>.npy            gradients of the first step (zeros where a parameter got none)
//   step_losses.npy            the loss of each followed step (float64)
//   step_<name>.npy            parameters after the followed steps
//   train_loss.npy, train_<name>.npy, out_<field>.npy   train_moe() on the same inputs
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "core/io/npy.h"
#include "core/moe/authors_model.h"
#include "core/moe/input_transform.h"
#include "core/moe/paper_model.h"
#include "core/moe/trainer.h"

namespace fs = std::filesystem;
using namespace strata::moe;

namespace {

// The MoE's own schema reads it (the fields it does not name keep their defaults).
MoeConfig read_config(nlohmann::json j) {
  j.erase("steps");
  return strata::spec::from_json<MoeConfig>(j, "config.json");
}

void write(const fs::path& dir, const std::string& name, const torch::Tensor& t) {
  strata::io::write_npy(dir / (name + ".npy"), t.detach().to(torch::kCPU).contiguous());
}

void write_all(const fs::path& dir, const std::string& prefix, const NamedTensors& named) {
  for (const auto& [name, t] : named) write(dir, prefix + name, t);
}

void write_forward(const fs::path& dir, const MoeModel& model, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  if (const auto* paper = dynamic_cast<const PaperMoe*>(&model)) {
    const auto out = paper->forward(x);
    write(dir, "fwd_y", out.y);
    write(dir, "fwd_gating", out.gating);
    write(dir, "fwd_codes", out.codes);
    write(dir, "fwd_loss", paper->loss(out, x).to(torch::kFloat64).reshape({1}));
  } else if (const auto* authors = dynamic_cast<const AuthorsMoe*>(&model)) {
    const auto out = authors->forward(x);
    write(dir, "fwd_projection", out.projection);
    write(dir, "fwd_gating", out.gating);
    write(dir, "fwd_selected", out.selected);
    write(dir, "fwd_codes", out.codes);
  }
}

// Follows `steps` optimiser steps through consecutive batches of the epochs' orders.
void follow_steps(const fs::path& dir, const MoeConfig& cfg, const torch::Tensor& X, const torch::Tensor& labels,
                  const std::vector<torch::Tensor>& orders, std::int64_t steps) {
  auto gen = init_generator(cfg.seed);
  auto model = make_model(cfg, X, gen, torch::kCPU);
  write_all(dir, "init_", model->parameters());
  const auto first = orders.at(0).slice(0, 0, cfg.batch_size);
  write_forward(dir, *model, X.index_select(0, first));

  Trainer trainer(*model, cfg.lr, nullptr);
  std::vector<double> losses;
  std::int64_t done = 0;
  for (std::size_t epoch = 0; epoch < orders.size(); ++epoch) {
    model->begin_epoch(static_cast<std::int64_t>(epoch));
    for (const auto& batch : orders[epoch].split(cfg.batch_size)) {
      if (done == steps) break;
      const auto summed = trainer.step(X, labels, batch);
      losses.push_back(summed.item<double>() / static_cast<double>(batch.size(0)));
      if (done == 0)
        for (const auto& [name, p] : model->parameters())
          write(dir, "grad_" + name, p.grad().defined() ? p.grad() : torch::zeros_like(p));
      ++done;
    }
  }
  write(dir, "step_losses", torch::tensor(losses, torch::kFloat64));
  write_all(dir, "step_", model->parameters());
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 2) {
    std::cerr << "usage: moe_step_dump DIR\n";
    return 2;
  }
  const fs::path dir = argv[1];
  std::ifstream in(dir / "config.json");
  const auto j = nlohmann::json::parse(in);
  const auto cfg = read_config(j);
  const auto steps = j.value("steps", std::int64_t{3});
  const auto X = strata::io::read_npy(dir / "X.npy");
  const auto labels = fs::exists(dir / "labels.npy") ? strata::io::read_npy(dir / "labels.npy") : torch::Tensor();
  validate(cfg, X.size(1));

  const auto prepared = prepare_inputs(X, cfg);
  write(dir, "inputs", prepared.X);
  write_all(dir, "stat_", prepared.stats);

  auto order_gen = shuffle_generator(cfg.seed);
  std::vector<torch::Tensor> orders;
  for (std::int64_t e = 0; e < cfg.epochs; ++e) {
    orders.push_back(epoch_permutation(order_gen, X.size(0)));
    write(dir, "order_" + std::to_string(e), orders.back());
  }
  follow_steps(dir, cfg, prepared.X, labels, orders, steps);

  const auto r = train_moe(X, labels, cfg, torch::kCPU);
  write(dir, "train_loss", torch::tensor(r.loss, torch::kFloat64));
  write_all(dir, "train_", r.params);
  write(dir, "out_gating", r.gating);
  write(dir, "out_recon_error", r.recon_error);
  write(dir, "out_support", r.support);
  write(dir, "out_selected", r.selected);
  write(dir, "out_dictionaries", r.dictionaries);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "moe_step_dump: " << e.what() << "\n";
  return 1;
}

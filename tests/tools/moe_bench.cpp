// Times strata::moe::train_moe on one configuration for tests/bench/bench_moe.py, or
// train_moe_group on `members` of them (seeds seed, seed+1, ...) trained as one model.
//
//   moe_bench X.npy [device=cpu|cuda] [epochs=100] [batch=256] [atoms=32]
//             [sparsity=8,12,16,20,24,28,32] [steps=3] [gate_dim=64] [seed=0] [members=0]
//
// Prints one JSON object: training seconds (the trainer's own clock: the epochs only), the wall
// time of the whole call (inputs to device, training, evaluation), the last epoch's loss (the
// first member's) and how many models were trained (members=0: train_moe on one).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/io/npy.h"
#include "core/moe/trainer.h"

namespace {

std::vector<std::int64_t> parse_list(const std::string& s) {
  std::vector<std::int64_t> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoll(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::cerr << "usage: moe_bench X.npy [key=value ...]\n";
    return 2;
  }
  std::map<std::string, std::string> opt{{"device", "cpu"}, {"epochs", "100"}, {"batch", "256"},
                                         {"atoms", "32"},   {"steps", "3"},    {"gate_dim", "64"},
                                         {"seed", "0"},     {"sparsity", "8,12,16,20,24,28,32"}, {"members", "0"}};
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const auto eq = a.find('=');
    if (eq == std::string::npos || !opt.count(a.substr(0, eq))) {
      std::cerr << "moe_bench: unknown argument " << a << "\n";
      return 2;
    }
    opt[a.substr(0, eq)] = a.substr(eq + 1);
  }
  strata::moe::MoeConfig cfg;
  cfg.epochs = std::stoll(opt["epochs"]);
  cfg.batch_size = std::stoll(opt["batch"]);
  cfg.atoms = std::stoll(opt["atoms"]);
  cfg.lista_steps = std::stoll(opt["steps"]);
  cfg.gate_dim = std::stoll(opt["gate_dim"]);
  cfg.seed = std::stoull(opt["seed"]);
  cfg.sparsity = parse_list(opt["sparsity"]);
  const torch::Device device(opt["device"]);

  const auto X = strata::io::read_npy(argv[1]);
  const auto members = std::stoll(opt["members"]);
  std::vector<strata::moe::MoeConfig> cfgs;
  for (std::int64_t g = 0; g < std::max<std::int64_t>(members, 1); ++g) {
    cfgs.push_back(cfg);
    cfgs.back().seed = cfg.seed + static_cast<std::uint64_t>(g);
  }
  const auto start = std::chrono::steady_clock::now();
  const auto r = members > 0 ? strata::moe::train_moe_group(X, cfgs, device) : std::vector{strata::moe::train_moe(X, {}, cfg, device)};
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json out{{"seconds", r.front().seconds}, {"wall_seconds", wall},       {"final_loss", r.front().loss.back()},
                     {"models", r.size()},           {"device", device.str()}, {"threads", torch::get_num_threads()}};
  std::cout << out.dump() << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "moe_bench: " << e.what() << "\n";
  return 1;
}

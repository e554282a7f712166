// The mixture of experts trained on CUDA against the same run on the CPU: same seed, same
// initial parameters and batch order, so the loss curves and the final gating must agree up
// to fp32 rounding (hard top-s can flip an atom on a near tie, hence tolerances, not equality).
#include <torch/torch.h>

#include "cluster/device.h"
#include "core/moe/trainer.h"
#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/unit/moe/moe_fixtures.h"

namespace {

strata::moe::MoeConfig small_config(const std::string& preset) {
  return strata::test::moe_config({{"preset", preset}, {"atoms", 16}, {"sparsity", {4, 8, 12, 16}}, {"lista_steps", 3},
                                   {"gate_dim", 8}, {"epochs", 4}, {"batch_size", 64}, {"lr", 3e-3}, {"seed", 5},
                                   {"pca_dim", preset == "authors-code" ? 16 : 64}});
}

// Points near four random 3-D subspaces of R^48.
torch::Tensor subspaces(std::int64_t n) {
  auto gen = strata::moe::init_generator(99);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  const auto bases = torch::randn({4, 48, 3}, gen, f32);
  const auto coef = torch::randn({n, 3}, gen, f32);
  const auto which = torch::arange(n) % 4;
  return torch::einsum("nlk,nk->nl", {bases.index_select(0, which), coef}) + 0.01 * torch::randn({n, 48}, gen, f32);
}

}  // namespace

TEST_CASE("gpu moe: paper preset trained on CUDA follows the CPU run") {
  const auto X = subspaces(512);
  const auto cfg = small_config("paper");
  const auto cpu = strata::moe::train_moe(X, {}, cfg, torch::kCPU);
  const auto gpu = strata::moe::train_moe(X, {}, cfg, torch::kCUDA);
  REQUIRE(gpu.loss.size() == cpu.loss.size());
  for (std::size_t e = 0; e < cpu.loss.size(); ++e) {
    INFO("epoch " << e << ": cpu " << cpu.loss[e] << " cuda " << gpu.loss[e]);
    CHECK(std::abs(gpu.loss[e] - cpu.loss[e]) <= 1e-3 * std::abs(cpu.loss[e]));
  }
  REQUIRE(gpu.gating.device().is_cpu());
  const double gate_diff = (gpu.gating - cpu.gating).abs().max().item<double>();
  INFO("max gating difference " << gate_diff);
  CHECK(gate_diff < 1e-3);
  const double agree = gpu.selected.eq(cpu.selected).to(torch::kFloat64).mean().item<double>();
  CHECK(agree >= 0.98);
}

TEST_CASE("gpu moe: authors-code preset runs on CUDA and matches the CPU loss") {
  const auto X = subspaces(256);
  const auto labels = torch::arange(256, torch::kInt64) % 4;
  const auto cfg = small_config("authors-code");
  const auto cpu = strata::moe::train_moe(X, labels, cfg, torch::kCPU);
  const auto gpu = strata::moe::train_moe(X, labels, cfg, torch::kCUDA);
  REQUIRE(gpu.loss.size() == cpu.loss.size());
  INFO("first epoch: cpu " << cpu.loss.front() << " cuda " << gpu.loss.front());
  CHECK(std::abs(gpu.loss.front() - cpu.loss.front()) <= 1e-3 * std::abs(cpu.loss.front()) + 1e-6);
  CHECK(std::isfinite(gpu.loss.back()));
}

TEST_CASE("gpu memory: what the GPU offers is known, and a training beyond it is refused before it allocates") {
  const torch::Device cuda(torch::kCUDA, 0);
  const double offered = strata::cluster::device_memory_bytes(cuda);
  INFO("cuda:0 offers " << offered / (1ULL << 30) << " GiB");
  REQUIRE(offered > (1ULL << 30));
  auto cfg = small_config("paper");
  cfg.atoms = 65536;  // 7 experts' LISTA S alone: 4 x 65536^2 x 4 bytes each, far beyond any GPU
  cfg.sparsity = {1, 2, 4, 8, 16, 32, 64};
  const auto X = subspaces(64);
  try {
    (void)strata::moe::train_moe(X, {}, cfg, cuda, nullptr, offered);
    FAIL("not refused");
  } catch (const strata::InputError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.find("but cuda:0 has") != std::string::npos);
  }
}

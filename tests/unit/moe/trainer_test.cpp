// train_moe: determinism, results, configuration errors, data-parallel equivalence.
#include <torch/torch.h>

#include <barrier>
#include <functional>
#include <thread>

#include "core/parallel/process_group.h"
#include "core/moe/trainer.h"
#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/unit/moe/moe_fixtures.h"

using namespace strata::moe;

namespace {

MoeConfig tiny_config() {
  return strata::test::moe_config({{"atoms", 8}, {"sparsity", {2, 4, 8}}, {"lista_steps", 2}, {"gate_dim", 4},
                                   {"epochs", 3}, {"batch_size", 16}, {"lr", 1e-2}, {"seed", 11}});
}

// Points near three random 2-D subspaces of R^12.
torch::Tensor blobs(std::int64_t n, std::uint64_t seed) {
  auto gen = init_generator(seed);
  const auto bases = torch::randn({3, 12, 2}, gen, torch::TensorOptions());
  const auto coef = torch::randn({n, 2}, gen, torch::TensorOptions());
  const auto which = torch::arange(n) % 3;
  return torch::einsum("nlk,nk->nl", {bases.index_select(0, which), coef}) + 0.01 * torch::randn({n, 12}, gen, torch::TensorOptions());
}

void check_identical(const TrainResult& a, const TrainResult& b) {
  REQUIRE(a.loss == b.loss);
  REQUIRE(a.params.size() == b.params.size());
  for (std::size_t i = 0; i < a.params.size(); ++i) {
    CHECK(a.params[i].first == b.params[i].first);
    CHECK(torch::equal(a.params[i].second, b.params[i].second));
  }
  CHECK(torch::equal(a.gating, b.gating));
  CHECK(torch::equal(a.recon_error, b.recon_error));
  CHECK(torch::equal(a.support, b.support));
  CHECK(torch::equal(a.selected, b.selected));
}

// Ranks as threads of one process: collectives meet at a barrier and read each other's slot.
struct ThreadWorld {
  explicit ThreadWorld(int n) : size(n), sync(n), slots(n) {}
  int size;
  std::barrier<> sync;
  std::vector<torch::Tensor> slots;
};

class ThreadGroup final : public strata::parallel::ProcessGroup {
 public:
  ThreadGroup(ThreadWorld& w, int rank) : w_(w), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return w_.size; }
  std::string backend() const override { return "threads"; }
  void allreduce_sum(torch::Tensor& t) override {
    w_.slots[rank_] = t.clone();
    w_.sync.arrive_and_wait();
    auto sum = w_.slots[0].clone();
    for (int r = 1; r < w_.size; ++r) sum += w_.slots[r];
    w_.sync.arrive_and_wait();
    t.copy_(sum);
  }
  void broadcast(torch::Tensor& t, int root) override {
    if (rank_ == root) w_.slots[root] = t.clone();
    w_.sync.arrive_and_wait();
    t.copy_(w_.slots[root]);
    w_.sync.arrive_and_wait();
  }
  void barrier() override { w_.sync.arrive_and_wait(); }

 private:
  ThreadWorld& w_;
  int rank_;
};

}  // namespace

TEST_CASE("the same seed gives a bit-identical run; another seed does not", "[moe]") {
  const auto X = blobs(60, 1);
  auto c = tiny_config();
  c.load_balance = 0.1;
  c.entropy_weight = 0.05;
  c.standardize = true;
  const auto a = train_moe(X, {}, c, torch::kCPU);
  const auto b = train_moe(X, {}, c, torch::kCPU);
  check_identical(a, b);
  c.seed = 12;
  const auto other = train_moe(X, {}, c, torch::kCPU);
  CHECK_FALSE(torch::equal(a.params[0].second, other.params[0].second));
}

TEST_CASE("train_moe reports every output with the documented shapes", "[moe]") {
  const auto X = blobs(50, 2) * 4 + 1;
  auto c = tiny_config();
  c.standardize = true;
  c.epochs = 30;
  const auto r = train_moe(X, {}, c, torch::kCPU);
  REQUIRE(r.loss.size() == 30);
  CHECK(r.loss.back() < r.loss.front());
  CHECK(r.gating.sizes() == torch::IntArrayRef({50, 3}));
  CHECK(r.recon_error.sizes() == torch::IntArrayRef({50}));
  CHECK(r.support.sizes() == torch::IntArrayRef({50, 3, 8}));
  CHECK(r.support.scalar_type() == torch::kUInt8);
  CHECK(torch::equal(r.selected, r.gating.argmax(1)));
  CHECK(torch::equal(r.sparsity, torch::tensor({2.f, 4.f, 8.f})));
  CHECK(r.dictionaries.sizes() == torch::IntArrayRef({3, 12, 8}));
  CHECK(torch::allclose(r.dictionaries.norm(2, {1}), torch::ones({3, 8}), 1e-5, 1e-5));
  // Each expert used at most s_e atoms for each point.
  for (int e = 0; e < 3; ++e) CHECK((r.support.select(1, e).sum(1) <= c.sparsity[e]).all().item<bool>());
  std::vector<std::string> names;
  for (const auto& [n, t] : r.params) names.push_back(n);
  CHECK(names == std::vector<std::string>{"dictionaries", "lista_W", "lista_S", "lista_theta", "gate_Wq", "gate_keys",
                                          "input_mean", "input_std"});
  CHECK(torch::allclose(r.params[6].second, X.mean(0), 1e-5, 1e-5));
  CHECK(r.seconds > 0);
}

TEST_CASE("validate names the offending setting", "[moe]") {
  auto expect_error = [](MoeConfig c, std::int64_t L, const std::string& needle) {
    try {
      validate(c, L);
      FAIL("no error for " << needle);
    } catch (const strata::InputError& e) {
      CHECK_THAT(e.what(), strata::test::HasSubstring(needle));
    }
  };
  MoeConfig c;
  CHECK_NOTHROW(validate(c, 16));
  auto bad = c;
  bad.sparsity = {8, 40};
  expect_error(bad, 16, "sparsity level 40 exceeds the number of atoms (32)");
  bad = c;
  bad.sparsity = {};
  expect_error(bad, 16, "moe.sparsity must not be an empty list");
  bad = c;
  bad.sparsity = {0};
  expect_error(bad, 16, "moe.sparsity[0] = 0 is out of range");
  bad = c;
  bad.lr = 0;
  expect_error(bad, 16, "moe.lr");
  bad = c;
  bad.lr = -1e-3;
  expect_error(bad, 16, "moe.lr");
  bad = c;
  bad.epochs = 0;
  expect_error(bad, 16, "moe.epochs");
  bad = c;
  bad.batch_size = 0;
  expect_error(bad, 16, "moe.batch_size");
  bad = c;
  bad.lista_steps = 0;
  expect_error(bad, 16, "moe.lista_steps");
  bad = c;
  bad.gate = "softmax";
  expect_error(bad, 16, "moe.gate = 'softmax'");
  bad = c;
  bad.load_balance = -1;
  expect_error(bad, 16, "moe.load_balance");
  bad = c;
  bad.preset = "other";
  expect_error(bad, 16, "moe.preset = 'other'");
  bad = c;
  bad.preset = "authors-code";
  expect_error(bad, 16, "moe.pca_dim = 64");
  bad.pca_dim = 8;
  CHECK_NOTHROW(validate(bad, 16));
  bad.standardize = true;
  expect_error(bad, 16, "moe.standardize");
  expect_error(c, 0, "width 0");
}

TEST_CASE("train_moe rejects data it cannot use", "[moe]") {
  auto c = tiny_config();
  auto X = blobs(20, 3);
  X[3][2] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(train_moe(X, {}, c, torch::kCPU), strata::InputError);
  c.preset = "authors-code";
  c.pca_dim = 4;
  CHECK_THROWS_AS(train_moe(blobs(20, 3), {}, c, torch::kCPU), strata::InputError);
  CHECK_THROWS_AS(train_moe(torch::zeros({0, 12}), {}, tiny_config(), torch::kCPU), strata::InputError);
}

// Trains on `ranks` thread ranks; returns each rank's result.
std::vector<TrainResult> train_on_ranks(const torch::Tensor& X, const MoeConfig& c, int ranks) {
  ThreadWorld world(ranks);
  std::vector<TrainResult> out(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      ThreadGroup g(world, r);
      out[static_cast<std::size_t>(r)] = train_moe(X, {}, c, torch::kCPU, &g);
    });
  for (auto& t : threads) t.join();
  return out;
}

TEST_CASE("the gradient shards, not the ranks, decide the model: 1, 2 and 3 ranks agree bit for bit", "[moe]") {
  const auto X = blobs(70, 4);  // 70 = 16 + 16 + 16 + 16 + 6: a last batch with empty shards
  auto c = tiny_config();
  c.entropy_weight = 0.05;
  c.load_balance = 0.1;  // batch-level terms: each shard's own, weighted by its size
  c.sparsity_cost = 0.02;
  c.grad_shards = 6;
  c.epochs = 3;
  const auto single = train_moe(X, {}, c, torch::kCPU);
  for (int ranks : {2, 3}) {
    const auto results = train_on_ranks(X, c, ranks);
    for (const auto& r : results) check_identical(r, single);
  }
  // The shards change the model (another loss for batch-level terms, another sum order).
  auto one = c;
  one.grad_shards = 1;
  CHECK_FALSE(train_moe(X, {}, one, torch::kCPU).loss == single.loss);
}

TEST_CASE("a group larger than the gradient shards is refused", "[moe]") {
  auto c = tiny_config();
  auto gen = init_generator(c.seed);
  auto model = make_model(c, blobs(20, 1), gen, torch::kCPU);
  ThreadWorld world(3);
  ThreadGroup g(world, 0);  // the check needs no collective
  CHECK_THROWS_WITH(Trainer(*model, c.lr, &g, 2),
                    strata::test::HasSubstring("a train job on 3 ranks needs moe.grad_shards >= 3"));
}

// Runs `fn(group, rank)` on two thread ranks; returns what each threw ("" for nothing; an
// InputError's message prefixed with "input: ", a GroupFailure's with "group: ").
template <typename Fn>
std::vector<std::string> on_two_ranks(Fn fn) {
  ThreadWorld world(2);
  std::vector<std::string> errors(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r)
    threads.emplace_back([&, r] {
      ThreadGroup g(world, r);
      try {
        fn(g, r);
      } catch (const strata::InputError& e) {
        errors[r] = std::string("input: ") + e.what();
      } catch (const strata::parallel::GroupFailure& e) {
        errors[r] = std::string("group: ") + e.what();
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  for (auto& t : threads) t.join();  // a rank left waiting in a collective would hang here
  return errors;
}

TEST_CASE("a rank that fails in its setup makes every rank of the group throw", "[moe]") {
  auto bad = blobs(40, 5);
  bad[7][1] = std::numeric_limits<float>::quiet_NaN();
  const auto errors = on_two_ranks([&](strata::parallel::ProcessGroup& g, int rank) {
    train_moe(rank == 1 ? bad : blobs(40, 5), {}, tiny_config(), torch::kCPU, &g);
  });
  CHECK_THAT(errors[1], Catch::Matchers::StartsWith("input: ") && strata::test::HasSubstring("NaN"));
  CHECK_THAT(errors[0], Catch::Matchers::Equals("group: stopped: another rank of its data-parallel group failed"));
}

TEST_CASE("a rank whose share of a step fails makes every rank throw at the epoch's end", "[moe]") {
  const auto X = blobs(48, 6);
  const auto cfg = tiny_config();
  std::vector<int> steps(2, 0);
  const auto errors = on_two_ranks([&](strata::parallel::ProcessGroup& g, int rank) {
    auto gen = init_generator(cfg.seed);
    auto model = make_model(cfg, X, gen, torch::kCPU);
    Trainer trainer(*model, cfg.lr, &g, 2);
    trainer.synchronize_parameters();
    auto total = torch::zeros({2, 1}, torch::kFloat64);  // [shards, models]
    const auto batches = torch::arange(48).split(cfg.batch_size);
    for (std::size_t b = 0; b < batches.size(); ++b) {
      // Rank 1's second share has the wrong width: its model cannot take it.
      const auto& rows = rank == 1 && b == 1 ? X.narrow(1, 0, 11) : X;
      total += trainer.step(rows, {}, batches[b]);
      ++steps[rank];
    }
    trainer.end_epoch(total);
  });
  CHECK(steps == std::vector<int>{3, 3});  // the failing rank took part in every gradient sum
  CHECK_FALSE(errors[1].empty());
  CHECK_THAT(errors[1], !Catch::Matchers::StartsWith("group: ") && !Catch::Matchers::StartsWith("input: "));
  CHECK_THAT(errors[0],
             Catch::Matchers::Equals("group: stopped: another rank of its data-parallel group failed during training"));
}

TEST_CASE("end_epoch sums the ranks' losses when none failed", "[moe]") {
  std::vector<double> sums(2);
  const auto errors = on_two_ranks([&](strata::parallel::ProcessGroup& g, int rank) {
    auto gen = init_generator(1);
    auto model = make_model(tiny_config(), torch::ones({2, 12}), gen, torch::kCPU);
    Trainer trainer(*model, 1e-2, &g, 2);
    // Each rank's shard in its own row: the sum is the same in shard order whoever computed it.
    sums[rank] = trainer.end_epoch(rank == 0 ? torch::tensor({1.5, 0.0}, torch::kFloat64)
                                             : torch::tensor({0.0, 2.25}, torch::kFloat64));
  });
  CHECK(errors == std::vector<std::string>{"", ""});
  CHECK(sums == std::vector<double>{3.75, 3.75});
}

TEST_CASE("a training too large for the memory is refused before anything is allocated", "[moe]") {
  auto c = tiny_config();
  c.atoms = 65536;
  c.sparsity = {1, 2};
  // Two experts of 65536 atoms: S alone is 2 x 65536^2 floats (32 GiB), five copies with Adam.
  CHECK(training_bytes(c, 1000, 64) > 5.0 * 32 * (1ULL << 30));
  CHECK_THROWS_WITH(check_memory(c, 1000, 64, 24.0 * (1ULL << 30), "this host"),
                    strata::test::HasSubstring("needs at least 160.") && strata::test::HasSubstring("this host has 24.0 GiB"));
  CHECK_NOTHROW(check_memory(tiny_config(), 1000, 64, 24.0 * (1ULL << 30), "this host"));
  // Through train_moe, refused as an input error (not retried) without allocating: eight
  // such experts need about 640 GiB, more than any host this runs on.
  c.sparsity = {1, 2, 3, 4, 5, 6, 7, 8};
  CHECK_THROWS_AS(train_moe(blobs(20, 1), {}, c, torch::kCPU), strata::InputError);
}

namespace {

// Members that differ in everything a group lets them differ in.
std::vector<MoeConfig> group_members(const MoeConfig& base) {
  std::vector<MoeConfig> cfgs(3, base);
  cfgs[1].seed = 12;
  cfgs[1].sparsity = {1, 3, 5};
  cfgs[1].lr = 3e-3;
  cfgs[1].sparsity_cost = 0.1;
  cfgs[1].sparsity_warmup = 2;
  cfgs[2].seed = 13;
  cfgs[2].sparsity = {8, 8, 8};
  cfgs[2].thresholds = "free";
  cfgs[2].gate_init = "unit";
  cfgs[2].load_balance = 0.2;
  cfgs[2].entropy_weight = -0.05;
  return cfgs;
}

void check_group_equals_alone(const torch::Tensor& X, const std::vector<MoeConfig>& cfgs) {
  const auto together = train_moe_group(X, cfgs, torch::kCPU);
  REQUIRE(together.size() == cfgs.size());
  for (std::size_t g = 0; g < cfgs.size(); ++g) {
    INFO("member " << g);
    CHECK(together[g].failure.empty());
    check_identical(together[g], train_moe(X, {}, cfgs[g], torch::kCPU));
  }
}

}  // namespace

TEST_CASE("models trained together give what each gives alone, bit for bit", "[moe]") {
  check_group_equals_alone(blobs(50, 4), group_members(tiny_config()));
}

TEST_CASE("models trained together give what each gives alone at shapes of library matrix products", "[moe]") {
  // Wide enough that every product goes to the BLAS kernels, not the small-matrix loops.
  auto gen = init_generator(5);
  const auto X = blobs(80, 6).matmul(torch::randn({12, 96}, gen, torch::TensorOptions()));
  auto base = tiny_config();
  base.atoms = 24;
  base.sparsity = {4, 12, 24};
  base.gate_dim = 16;
  base.batch_size = 32;
  base.grad_shards = 2;
  auto cfgs = group_members(base);
  cfgs[1].sparsity = {2, 6, 10};
  cfgs[2].sparsity = {24, 24, 24};
  check_group_equals_alone(X, cfgs);
}

TEST_CASE("only configurations of equal shapes train together", "[moe]") {
  const auto a = tiny_config();
  auto b = a;
  b.seed = 3;
  b.lr = 0.5;
  b.sparsity = {1, 1, 1};
  CHECK(fusable(a, b));
  for (auto change : std::vector<std::function<void(MoeConfig&)>>{
           [](MoeConfig& c) { c.atoms = 9; }, [](MoeConfig& c) { c.sparsity = {2, 4}; },
           [](MoeConfig& c) { c.epochs = 4; }, [](MoeConfig& c) { c.batch_size = 8; },
           [](MoeConfig& c) { c.standardize = true; }, [](MoeConfig& c) { c.gate = "uniform"; },
           [](MoeConfig& c) { c.preset = "authors-code"; }}) {
    auto c = a;
    change(c);
    CHECK_FALSE(fusable(a, c));
  }
  auto wide = a;
  wide.atoms = 9;
  CHECK_THROWS_AS(train_moe_group(blobs(20, 1), {a, wide}, torch::kCPU), strata::RunError);
}

// Embedding in shards: the split of rows into token-balanced runs of batches, and the shards'
// rows, computed apart, equal the unsharded embedding bit for bit.
#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "core/nn/embed_shards.h"
#include "core/nn/encoder.h"
#include "tests/catch.hpp"
#include "tests/unit/nn/nn_fixtures.h"

using strata::nn::EmbedOptions;

namespace {

std::vector<std::int64_t> random_costs(std::size_t n, std::uint32_t seed, std::int64_t most) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int64_t> d(1, most);
  std::vector<std::int64_t> c(n);
  for (auto& x : c) x = d(rng);
  return c;
}

std::int64_t sum(const std::vector<std::int64_t>& c, std::size_t from, std::size_t to) {
  return std::accumulate(c.begin() + static_cast<std::ptrdiff_t>(from), c.begin() + static_cast<std::ptrdiff_t>(to),
                         std::int64_t{0});
}

// Checks the cuts' form and that every part is within the largest cost of an equal share.
void check_balanced(const std::vector<std::int64_t>& costs, std::int64_t parts) {
  const auto cuts = strata::nn::balanced_cuts(costs, parts);
  REQUIRE(cuts.size() == static_cast<std::size_t>(parts) + 1);
  CHECK(cuts.front() == 0);
  CHECK(cuts.back() == costs.size());
  CHECK(std::is_sorted(cuts.begin(), cuts.end()));
  const double share = static_cast<double>(sum(costs, 0, costs.size())) / static_cast<double>(parts);
  const std::int64_t largest = costs.empty() ? 0 : *std::max_element(costs.begin(), costs.end());
  for (std::int64_t k = 0; k < parts; ++k) {
    const auto part = static_cast<double>(sum(costs, cuts[k], cuts[k + 1]));
    INFO("part " << k << " of " << parts << ": " << part << " against a share of " << share);
    CHECK(std::abs(part - share) <= static_cast<double>(largest));
  }
}

using strata::test::max_abs_diff;
using strata::test::rows_of_lengths;

}  // namespace

TEST_CASE("balanced_cuts: contiguous parts within one item's cost of an equal share", "[shards]") {
  for (std::uint32_t seed = 0; seed < 20; ++seed)
    for (std::int64_t parts : {1, 2, 3, 5, 8, 13}) check_balanced(random_costs(40 + seed, seed, 50), parts);
  // Very uneven costs, and every item alike.
  check_balanced({1000, 1, 1, 1, 1, 1, 1, 1}, 3);
  check_balanced(std::vector<std::int64_t>(10, 7), 4);
  // Items of no cost are passed over, not piled on a boundary.
  check_balanced({0, 0, 5, 0, 5, 0, 0, 5, 5, 0}, 2);
}

TEST_CASE("balanced_cuts: more parts than items leaves parts empty, none lost", "[shards]") {
  const std::vector<std::int64_t> costs{9, 4, 7};
  const auto cuts = strata::nn::balanced_cuts(costs, 7);
  std::size_t empty = 0;
  for (std::size_t k = 0; k + 1 < cuts.size(); ++k) empty += cuts[k] == cuts[k + 1];
  CHECK(empty == 4);
  CHECK(cuts.back() == 3);
  check_balanced(costs, 7);
  CHECK(strata::nn::balanced_cuts({}, 3) == std::vector<std::size_t>{0, 0, 0, 0});
  CHECK(strata::nn::balanced_cuts(costs, 1) == std::vector<std::size_t>{0, 3});
}

TEST_CASE("balanced_cuts is a function of the costs alone", "[shards]") {
  const auto costs = random_costs(200, 7, 300);
  const auto first = strata::nn::balanced_cuts(costs, 6);
  for (int i = 0; i < 3; ++i) CHECK(strata::nn::balanced_cuts(costs, 6) == first);
}

TEST_CASE("shard_batches: the shards are embed_batches' batches in order, balanced by padded tokens", "[shards]") {
  std::vector<std::int64_t> lengths;
  for (auto c : random_costs(57, 3, 120)) lengths.push_back(c);
  for (std::int64_t batch : {1, 4, 16})
    for (std::int64_t shards : {1, 2, 3, 7, 20}) {
      INFO("batch_size " << batch << ", " << shards << " shards");
      EmbedOptions opt;
      opt.batch_size = batch;
      const auto all = strata::nn::embed_batches(lengths, opt);
      std::vector<std::vector<std::int64_t>> joined;
      std::vector<std::int64_t> tokens, batch_tokens;
      for (const auto& b : all) batch_tokens.push_back(strata::nn::padded_tokens(b, lengths));
      for (std::int64_t k = 0; k < shards; ++k) {
        const auto part = strata::nn::shard_batches(lengths, opt, k, shards);
        std::int64_t t = 0;
        for (const auto& b : part) {
          joined.push_back(b);
          t += strata::nn::padded_tokens(b, lengths);
        }
        tokens.push_back(t);
      }
      CHECK(joined == all);
      const double share = static_cast<double>(std::accumulate(tokens.begin(), tokens.end(), std::int64_t{0})) /
                           static_cast<double>(shards);
      const auto largest = *std::max_element(batch_tokens.begin(), batch_tokens.end());
      for (auto t : tokens) CHECK(std::abs(static_cast<double>(t) - share) <= static_cast<double>(largest));
      // One row a batch: the shards are balanced within one row's tokens.
      if (batch == 1)
        for (auto t : tokens) CHECK(std::abs(static_cast<double>(t) - share) <= 120.0);
    }
}

TEST_CASE("shard_batches: a shard beyond the batches is empty, and shards must exist", "[shards]") {
  const std::vector<std::int64_t> lengths{5, 9, 3};
  EmbedOptions opt;
  opt.batch_size = 2;  // two batches
  std::size_t rows = 0, empty = 0;
  for (std::int64_t k = 0; k < 5; ++k) {
    const auto part = strata::nn::shard_batches(lengths, opt, k, 5);
    empty += part.empty();
    for (const auto& b : part) rows += b.size();
  }
  CHECK(rows == 3);
  CHECK(empty == 3);
  CHECK_THROWS(strata::nn::shard_batches(lengths, opt, 5, 5));
  CHECK_THROWS(strata::nn::shard_batches(lengths, opt, -1, 5));
}

TEST_CASE("embedding in shards gives the unsharded rows bit for bit", "[shards]") {
  const auto dir = strata::test::write_tiny_bert("bert_shards", 4);
  auto enc = strata::nn::load_encoder(dir, "fp32", torch::kCPU);
  const std::vector<std::int64_t> lengths{3, 17, 40, 8, 8, 1, 25, 60, 2, 33, 12, 5, 19, 44, 7, 9, 30};
  const auto ids = rows_of_lengths(lengths, 11);
  for (const char* pooling : {"mean", "mean-with-padding", "last"})
    for (std::int64_t batch : {3, 5}) {
      EmbedOptions opt;
      opt.pooling = pooling;
      opt.batch_size = batch;
      const torch::Tensor whole = strata::nn::embed_ids(*enc, ids, 0, opt, torch::kCPU);
      const auto used = strata::nn::embed_lengths(*enc, ids, opt);
      for (std::int64_t shards : {2, 4, 9}) {
        INFO(pooling << ", batch_size " << batch << ", " << shards << " shards");
        torch::Tensor merged = torch::full_like(whole, std::nanf(""));
        for (std::int64_t k = 0; k < shards; ++k) {
          const auto batches = strata::nn::shard_batches(used, opt, k, shards);
          const torch::Tensor part = strata::nn::embed_id_batches(*enc, ids, 0, opt, torch::kCPU, batches).layers.front();
          std::vector<std::int64_t> rows;
          for (const auto& b : batches) rows.insert(rows.end(), b.begin(), b.end());
          REQUIRE(part.size(0) == static_cast<std::int64_t>(rows.size()));
          if (!rows.empty()) merged.index_copy_(0, torch::tensor(rows, torch::kInt64), part);
        }
        CHECK(torch::equal(merged, whole));
      }
    }
}

// Every layer and every token: the hidden states forward_layers gives are the ones a forward
// pass computes (layer L is forward()'s output), several layers come from one pass in the order
// asked, and pooling "tokens" gives one row per kept token, which batching and sharding never
// change.
#include <torch/torch.h>

#include <set>
#include <string>
#include <vector>

#include "core/nn/embed_shards.h"
#include "core/nn/embed_spec.h"
#include "core/nn/encoder.h"
#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/test_support.h"
#include "tests/unit/nn/nn_fixtures.h"

using strata::nn::EmbedOptions;

namespace {

namespace st = strata::test;

// One row, unpadded, through the encoder: its hidden states of every layer.
std::vector<torch::Tensor> states_of(strata::nn::Encoder& enc, const std::vector<std::int32_t>& row) {
  std::vector<std::int64_t> wide(row.begin(), row.end());
  const torch::Tensor ids = torch::tensor(wide, torch::kInt64).unsqueeze(0);
  const torch::Tensor mask = torch::ones_like(ids, torch::kBool);
  std::vector<std::int64_t> every;
  for (std::int64_t k = 0; k <= enc.num_layers(); ++k) every.push_back(k);
  std::vector<torch::Tensor> out;
  enc.forward_layers(ids, mask, every, [&](std::int64_t layer, const torch::Tensor& h) {
    CHECK(layer == static_cast<std::int64_t>(out.size()));
    out.push_back(h[0].to(torch::kFloat32).clone());
  });
  return out;
}

}  // namespace

TEST_CASE("layers: indices resolve from the end, sorted, once each; others are refused") {
  using strata::nn::resolve_layers;
  CHECK(resolve_layers({}, 6) == std::vector<std::int64_t>{6});
  CHECK(resolve_layers({-1, 0, 3, -7, 3}, 6) == std::vector<std::int64_t>{0, 3, 6});
  CHECK(st::contains(st::input_error([] { resolve_layers({7}, 6); }), "layer 7 does not exist"));
  CHECK(st::contains(st::input_error([] { resolve_layers({-8}, 6); }), "hidden states 0 to 6"));
  strata::nn::LayerSelection all;
  all.all = true;
  CHECK(all.resolve(2) == std::vector<std::int64_t>{0, 1, 2});
  std::string error;
  (void)strata::nn::LayerSelection::from_value(nlohmann::json("some"), &error);
  CHECK(st::contains(error, "\"all\" or a non-empty list"));
}

TEST_CASE("layers: every architecture's hidden states, the last equal to forward(), from one pass") {
  const auto bert = strata::test::write_tiny_bert("layers_bert", 11);
  const auto llama = strata::test::write_tiny_llama("layers_llama", 12);
  const auto rows = st::rows_of_lengths({6, 13, 2, 9}, 5);
  for (const auto& dir : {bert, llama}) {
    auto enc = strata::nn::load_encoder(dir, "fp32", torch::kCPU);
    INFO(enc->architecture());
    REQUIRE(enc->num_layers() == 2);
    // The last layer is forward()'s output; an early layer differs from it.
    const auto states = states_of(*enc, rows[1]);
    std::vector<std::int64_t> wide(rows[1].begin(), rows[1].end());
    const torch::Tensor ids = torch::tensor(wide, torch::kInt64).unsqueeze(0);
    CHECK(torch::equal(states.back(), enc->forward(ids, torch::ones_like(ids, torch::kBool))[0]));
    CHECK(st::max_abs_diff(states[0], states[2]) > 1e-3);
    // Several layers pooled in one pass: each equals that layer alone, and the last the default.
    EmbedOptions o;
    o.batch_size = 3;
    o.layers = {0, 1, 2};
    const auto all = strata::nn::embed_rows(*enc, rows, 0, o, torch::kCPU);
    REQUIRE(all.layers.size() == 3);
    for (std::int64_t k = 0; k <= 2; ++k) {
      EmbedOptions one = o;
      one.layers = {k};
      CHECK(torch::equal(all.layers[static_cast<std::size_t>(k)], strata::nn::embed_ids(*enc, rows, 0, one, torch::kCPU)));
    }
    EmbedOptions last = o;
    last.layers = {};
    CHECK(torch::equal(all.layers[2], strata::nn::embed_ids(*enc, rows, 0, last, torch::kCPU)));
    // Row 1's mean over its tokens at layer 0, computed unpadded, is what the batches gave.
    CHECK(st::max_abs_diff(all.layers[0][1], states[0].mean(0)) < 1e-5);
  }
}

TEST_CASE("tokens: one row per real token, in text and position order, equal to the unpadded states") {
  const auto llama = strata::test::write_tiny_llama("tokens_llama", 21);
  auto enc = strata::nn::load_encoder(llama, "fp32", torch::kCPU);
  const auto rows = st::rows_of_lengths({4, 11, 1, 7}, 8);
  EmbedOptions o;
  o.pooling = "tokens";
  o.batch_size = 2;
  o.layers = {1, 2};
  const auto e = strata::nn::embed_rows(*enc, rows, 0, o, torch::kCPU);
  REQUIRE(e.layers.size() == 2);
  REQUIRE(e.layers[0].size(0) == 23);
  REQUIRE(e.text_row.size(0) == 23);
  std::int64_t at = 0;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto states = states_of(*enc, rows[r]);
    for (std::size_t p = 0; p < rows[r].size(); ++p, ++at) {
      CHECK(e.text_row[at].item<std::int64_t>() == static_cast<std::int64_t>(r));
      CHECK(e.position[at].item<std::int64_t>() == static_cast<std::int64_t>(p));
      CHECK(e.token_id[at].item<std::int64_t>() == rows[r][p]);
      CHECK(st::max_abs_diff(e.layers[0][at], states[1][static_cast<std::int64_t>(p)]) < 1e-5);
      CHECK(st::max_abs_diff(e.layers[1][at], states[2][static_cast<std::int64_t>(p)]) < 1e-5);
    }
  }
}

TEST_CASE("tokens: caps per text and per corpus are seeded draws of the lengths alone") {
  EmbedOptions o;
  o.pooling = "tokens";
  o.tokens_per_text = 3;
  o.token_seed = 7;
  const std::vector<std::int64_t> lengths{2, 10, 5, 40};
  const auto kept = strata::nn::kept_tokens(lengths, o);
  CHECK(kept[0] == std::vector<std::int64_t>{0, 1});
  for (std::size_t r = 1; r < 4; ++r) {
    CHECK(kept[r].size() == 3);
    CHECK(std::is_sorted(kept[r].begin(), kept[r].end()));
    CHECK(std::set<std::int64_t>(kept[r].begin(), kept[r].end()).size() == 3);
    CHECK(kept[r].back() < lengths[r]);
  }
  CHECK(strata::nn::kept_tokens(lengths, o) == kept);  // the same seed, the same draw
  o.token_seed = 8;
  CHECK(strata::nn::kept_tokens(lengths, o) != kept);
  o.token_rows = 5;
  std::size_t total = 0;
  for (const auto& k : strata::nn::kept_tokens(lengths, o)) total += k.size();
  CHECK(total == 5);
}

TEST_CASE("tokens: shards of the batches give the whole embedding's token rows") {
  const auto bert = strata::test::write_tiny_bert("tokens_shards", 31);
  auto enc = strata::nn::load_encoder(bert, "fp32", torch::kCPU);
  const auto rows = st::rows_of_lengths({5, 17, 3, 30, 9, 12, 1, 8}, 9);
  EmbedOptions o;
  o.pooling = "tokens";
  o.batch_size = 2;
  o.tokens_per_text = 6;
  o.token_seed = 3;
  const auto whole = strata::nn::embed_rows(*enc, rows, 0, o, torch::kCPU);
  const auto lengths = strata::nn::embed_lengths(*enc, rows, o);
  std::vector<torch::Tensor> parts, text_rows, positions;
  for (std::int64_t k = 0; k < 3; ++k) {
    const auto batches = strata::nn::shard_batches(lengths, o, k, 3);
    const auto part = strata::nn::embed_id_batches(*enc, rows, 0, o, torch::kCPU, batches);
    parts.push_back(part.layers.front());
    text_rows.push_back(part.text_row);
    positions.push_back(part.position);
  }
  const torch::Tensor row = torch::cat(text_rows), pos = torch::cat(positions);
  const torch::Tensor order = std::get<1>(torch::sort(row * 1000 + pos, /*stable=*/true, 0, false));
  CHECK(torch::equal(row.index_select(0, order), whole.text_row));
  CHECK(torch::equal(pos.index_select(0, order), whole.position));
  CHECK(torch::equal(torch::cat(parts).index_select(0, order), whole.layers.front()));
}

// Packed batches (every row's real tokens one after another, no padding): for a bidirectional
// encoder, a learned-position decoder and a rotary grouped-query decoder, the hidden states and
// every pooled row equal the right-padded path's in fp32, on rows of very different lengths.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/nn/encoder.h"
#include "core/nn/pooling.h"
#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/test_support.h"
#include "tests/unit/nn/nn_fixtures.h"

using strata::nn::EmbedOptions;

namespace {

namespace st = strata::test;

// Lengths from 1 to 120 (RoBERTa's tiny model holds 126 positions), mixed so that unsorted
// batches put a one-token row beside a long one.
const std::vector<std::int64_t> kLengths{1, 37, 5, 120, 2, 64, 1, 17, 90, 3, 1, 48};

struct Snapshot {
  std::string name;
  std::filesystem::path dir;
};

std::vector<Snapshot> snapshots(const std::string& prefix) {
  return {{"bert", st::write_tiny_bert(prefix + "_bert", 41)},
          {"roberta", st::write_tiny_roberta(prefix + "_roberta", 42)},
          {"gpt2", st::write_tiny_gpt2(prefix + "_gpt2", 43)},
          {"llama", st::write_tiny_llama(prefix + "_llama", 44)}};
}

std::vector<std::int64_t> all_layers(const strata::nn::Encoder& enc) {
  std::vector<std::int64_t> every;
  for (std::int64_t k = 0; k <= enc.num_layers(); ++k) every.push_back(k);
  return every;
}

// The rows right-padded (padding id 0) and packed.
std::pair<torch::Tensor, torch::Tensor> padded(const std::vector<std::vector<std::int32_t>>& rows) {
  std::int64_t T = 0;
  for (const auto& r : rows) T = std::max<std::int64_t>(T, static_cast<std::int64_t>(r.size()));
  torch::Tensor ids = torch::zeros({static_cast<std::int64_t>(rows.size()), T}, torch::kInt64);
  torch::Tensor mask = torch::zeros_like(ids, torch::kBool);
  for (std::size_t b = 0; b < rows.size(); ++b)
    for (std::size_t t = 0; t < rows[b].size(); ++t) {
      ids[static_cast<std::int64_t>(b)][static_cast<std::int64_t>(t)] = rows[b][t];
      mask[static_cast<std::int64_t>(b)][static_cast<std::int64_t>(t)] = true;
    }
  return {ids, mask};
}

strata::nn::PackedRows packed(const std::vector<std::vector<std::int32_t>>& rows) {
  strata::nn::PackedRows p;
  p.offsets.push_back(0);
  std::vector<std::int64_t> flat;
  for (const auto& r : rows) {
    flat.insert(flat.end(), r.begin(), r.end());
    p.offsets.push_back(static_cast<std::int64_t>(flat.size()));
  }
  p.ids = torch::tensor(flat, torch::kInt64);
  return p;
}

}  // namespace

TEST_CASE("pool_packed: mean, last and cls of packed rows") {
  // Rows of 2, 1 and 3 tokens (offsets 0, 2, 3, 6).
  const torch::Tensor h = torch::arange(12, torch::kFloat32).view({6, 2});
  const std::vector<std::int64_t> lengths{0, 2, 3, 6};
  using strata::nn::pool_packed;
  CHECK(torch::equal(pool_packed(h, lengths, "mean"), torch::tensor({{1.0f, 2.0f}, {4.0f, 5.0f}, {8.0f, 9.0f}})));
  CHECK(torch::equal(pool_packed(h, lengths, "last"), torch::tensor({{2.0f, 3.0f}, {4.0f, 5.0f}, {10.0f, 11.0f}})));
  CHECK(torch::equal(pool_packed(h, lengths, "cls"), torch::tensor({{0.0f, 1.0f}, {4.0f, 5.0f}, {6.0f, 7.0f}})));
  CHECK_THROWS_AS(pool_packed(h, lengths, "mean-with-padding"), strata::RunError);
  CHECK_THROWS_AS(pool_packed(h, {0, 2, 5}, "mean"), strata::RunError);     // rows past the states
  CHECK_THROWS_AS(pool_packed(h, {0, 2, 2, 6}, "mean"), strata::RunError);  // an empty row
  CHECK(st::contains(st::input_error([&] { pool_packed(h, lengths, "max"); }), "pooling 'max' is not known"));
}

TEST_CASE("packed: every layer's hidden states equal the padded batch's at the real tokens") {
  const auto rows = st::rows_of_lengths(kLengths, 17);
  const auto [ids, mask] = padded(rows);
  const strata::nn::PackedRows p = packed(rows);
  for (const auto& snap : snapshots("packed_states")) {
    auto enc = strata::nn::load_encoder(snap.dir, "fp32", torch::kCPU);
    INFO(snap.name);
    REQUIRE(enc->architecture() == snap.name);
    const auto every = all_layers(*enc);
    std::vector<torch::Tensor> pad_states, packed_states;
    enc->forward_layers(ids, mask, every, [&](std::int64_t, const torch::Tensor& h) { pad_states.push_back(h.clone()); });
    enc->forward_packed_layers(p, every, [&](std::int64_t, const torch::Tensor& h) { packed_states.push_back(h.clone()); });
    REQUIRE(packed_states.size() == every.size());
    for (std::size_t k = 0; k < every.size(); ++k) {
      INFO("layer " << k);
      REQUIRE(packed_states[k].sizes() == torch::IntArrayRef({p.offsets.back(), enc->hidden_size()}));
      double worst = 0;
      for (std::size_t r = 0; r < rows.size(); ++r) {
        const auto len = static_cast<std::int64_t>(rows[r].size());
        const torch::Tensor want = pad_states[k][static_cast<std::int64_t>(r)].narrow(0, 0, len);
        worst = std::max(worst, st::max_abs_diff(packed_states[k].narrow(0, p.offsets[r], len), want));
      }
      INFO("max |packed - padded| " << worst);
      CHECK(worst < 1e-5);
    }
    // The last layer differs from the embedding layer: the comparison saw real computation.
    CHECK(st::max_abs_diff(packed_states.front(), packed_states.back()) > 1e-3);
  }
}

TEST_CASE("packed: pooled rows of several layers equal the padded path's, sorted or not") {
  const auto rows = st::rows_of_lengths(kLengths, 23);
  for (const auto& snap : snapshots("packed_pooled")) {
    auto enc = strata::nn::load_encoder(snap.dir, "fp32", torch::kCPU);
    for (const std::string pooling : {"mean", "last", "cls", "tokens"}) {
      for (const bool sort : {false, true}) {
        INFO(snap.name << " " << pooling << (sort ? " sorted" : " unsorted"));
        EmbedOptions o;
        o.pooling = pooling;
        o.batch_size = 5;
        o.sort_by_length = sort;
        o.layers = {0, 1, -1};
        o.tokens_per_text = 30;  // pooling "tokens": a seeded subset of the long rows
        o.token_seed = 5;
        EmbedOptions pad = o;
        pad.packed = false;
        const auto got = strata::nn::embed_rows(*enc, rows, 0, o, torch::kCPU);
        const auto want = strata::nn::embed_rows(*enc, rows, 0, pad, torch::kCPU);
        REQUIRE(got.layers.size() == 3);
        for (std::size_t k = 0; k < 3; ++k) {
          REQUIRE(got.layers[k].sizes() == want.layers[k].sizes());
          CHECK(st::max_abs_diff(got.layers[k], want.layers[k]) < 1e-5);
        }
        if (pooling == "tokens") {
          CHECK(torch::equal(got.text_row, want.text_row));
          CHECK(torch::equal(got.position, want.position));
          CHECK(torch::equal(got.token_id, want.token_id));
        } else {
          CHECK(got.layers[0].size(0) == static_cast<std::int64_t>(rows.size()));
        }
      }
    }
  }
}

TEST_CASE("packed: a token budget and normalisation give the padded path's rows; mean-with-padding pads") {
  const auto rows = st::rows_of_lengths(kLengths, 29);
  auto enc = strata::nn::load_encoder(st::write_tiny_llama("packed_budget", 45), "fp32", torch::kCPU);
  EmbedOptions o;
  o.max_batch_tokens = 130;
  o.normalize = true;
  EmbedOptions pad = o;
  pad.packed = false;
  CHECK(st::max_abs_diff(strata::nn::embed_ids(*enc, rows, 0, o, torch::kCPU),
                         strata::nn::embed_ids(*enc, rows, 0, pad, torch::kCPU)) < 1e-5);
  // It reads the states at padding, which only the padded layout has: both options run it alike.
  o.pooling = pad.pooling = "mean-with-padding";
  o.batch_size = pad.batch_size = 4;
  CHECK(torch::equal(strata::nn::embed_ids(*enc, rows, 0, o, torch::kCPU),
                     strata::nn::embed_ids(*enc, rows, 0, pad, torch::kCPU)));
}

TEST_CASE("packed: rows past the positions and offsets that do not fit the ids are refused") {
  auto enc = strata::nn::load_encoder(st::write_tiny_gpt2("packed_refused", 46), "fp32", torch::kCPU);
  const auto sink = [](std::int64_t, const torch::Tensor&) {};
  const std::vector<std::int64_t> last{enc->num_layers()};
  const strata::nn::PackedRows long_row = packed(st::rows_of_lengths({3, 129}, 1));
  CHECK(st::contains(st::input_error([&] { enc->forward_packed_layers(long_row, last, sink); }),
                     "a row of 129 tokens is longer than the model's 128 positions"));
  strata::nn::PackedRows bad = packed(st::rows_of_lengths({3, 4}, 2));
  bad.offsets = {0, 3, 8};
  CHECK_THROWS_AS(enc->forward_packed_layers(bad, last, sink), strata::RunError);
  bad.offsets = {0, 3, 3, 7};
  CHECK_THROWS_AS(enc->forward_packed_layers(bad, last, sink), strata::RunError);
}

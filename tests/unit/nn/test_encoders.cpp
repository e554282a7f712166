// Encoders and embedding on tiny random-weight snapshots written by the tests: padding never
// changes a row's embedding (except for mean-with-padding, by definition), batching restores
// input order, poolings mean what they say, and bad snapshots fail with clear messages.
#include <torch/torch.h>

#include <fstream>
#include <string>
#include <vector>

#include "core/nn/encoder.h"
#include "core/nn/pooling.h"
#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/test_support.h"
#include "tests/unit/nn/nn_fixtures.h"

namespace fs = std::filesystem;
using strata::nn::EmbedOptions;

namespace {

using strata::test::contains;
using strata::test::input_error;

using strata::test::max_abs_diff;
using strata::test::rows_of_lengths;

EmbedOptions options(const std::string& pooling, std::int64_t batch_size, bool sort = true) {
  EmbedOptions o;
  o.pooling = pooling;
  o.batch_size = batch_size;
  o.sort_by_length = sort;
  return o;
}

}  // namespace

TEST_CASE("pool: mean, last, cls and mean-with-padding of a right-padded batch") {
  // Row 0 has 2 real tokens of 3, row 1 all 3.
  const torch::Tensor h = torch::arange(12, torch::kFloat32).view({2, 3, 2});
  const torch::Tensor mask = torch::tensor({{1, 1, 0}, {1, 1, 1}}).to(torch::kBool);
  using strata::nn::pool;
  CHECK(torch::equal(pool(h, mask, "mean"), torch::tensor({{1.0f, 2.0f}, {8.0f, 9.0f}})));
  CHECK(torch::equal(pool(h, mask, "last"), torch::tensor({{2.0f, 3.0f}, {10.0f, 11.0f}})));
  CHECK(torch::equal(pool(h, mask, "cls"), torch::tensor({{0.0f, 1.0f}, {6.0f, 7.0f}})));
  CHECK(torch::equal(pool(h, mask, "mean-with-padding"), torch::tensor({{2.0f, 3.0f}, {8.0f, 9.0f}})));
  CHECK(contains(input_error([&] { pool(h, mask, "max"); }), "pooling 'max' is not known"));
}

TEST_CASE("encoders: padding and batching leave a row's embedding unchanged") {
  const auto bert = strata::test::write_tiny_bert("bert_padding", 1);
  const auto llama = strata::test::write_tiny_llama("llama_padding", 2);
  const auto rows = rows_of_lengths({5, 17, 3, 30, 9, 12, 1}, 7);
  for (const auto& dir : {bert, llama}) {
    auto enc = strata::nn::load_encoder(dir, "fp32", torch::kCPU);
    INFO(enc->architecture());
    for (const std::string pooling : {"mean", "last", "cls"}) {
      INFO(pooling);
      // One row at a time (no padding) against sorted batches of 3 and one unsorted batch.
      const torch::Tensor alone = strata::nn::embed_ids(*enc, rows, 0, options(pooling, 1), torch::kCPU);
      const torch::Tensor sorted = strata::nn::embed_ids(*enc, rows, 0, options(pooling, 3), torch::kCPU);
      const torch::Tensor together = strata::nn::embed_ids(*enc, rows, 0, options(pooling, 64, false), torch::kCPU);
      CHECK(alone.sizes() == torch::IntArrayRef({7, 64}));
      CHECK(max_abs_diff(alone, sorted) < 1e-5);
      CHECK(max_abs_diff(alone, together) < 1e-5);
    }
  }
}

TEST_CASE("encoders: a token budget per batch changes batch sizes, not embeddings") {
  const auto llama = strata::test::write_tiny_llama("llama_budget", 3);
  const auto rows = rows_of_lengths({40, 2, 2, 2, 2, 2, 2, 2, 2, 2, 9, 31}, 5);
  auto enc = strata::nn::load_encoder(llama, "fp32", torch::kCPU);
  for (const std::string pooling : {"mean", "last", "mean-with-padding"}) {
    INFO(pooling);
    const torch::Tensor alone = strata::nn::embed_ids(*enc, rows, 0, options(pooling, 1), torch::kCPU);
    EmbedOptions budget = options(pooling, 64);
    budget.max_batch_tokens = 20;  // smaller than the longest row: that row still gets a batch
    const torch::Tensor got = strata::nn::embed_ids(*enc, rows, 0, budget, torch::kCPU);
    // mean-with-padding keeps input order, so its batches (and values) differ from one-row
    // batches by definition; the budget must still produce every row.
    if (pooling != "mean-with-padding") CHECK(max_abs_diff(alone, got) < 1e-5);
    CHECK(got.size(0) == 12);
    CHECK(torch::isfinite(got).all().item<bool>());
  }
  EmbedOptions bad = options("mean", 4);
  bad.max_batch_tokens = -1;
  CHECK(contains(input_error([&] { strata::nn::embed_ids(*enc, rows, 0, bad, torch::kCPU); }), "max_batch_tokens"));
}

TEST_CASE("encoders: a decoder's last-token embedding sees the whole row, the first only itself") {
  const auto llama = strata::test::write_tiny_llama("llama_causal", 3);
  auto enc = strata::nn::load_encoder(llama, "fp32", torch::kCPU);
  auto rows = rows_of_lengths({6, 6}, 11);
  rows[1] = rows[0];
  rows[1][5] = rows[0][5] == 1 ? 2 : 1;  // the rows differ in their last token only
  const torch::Tensor first = strata::nn::embed_ids(*enc, rows, 0, options("cls", 2), torch::kCPU);
  const torch::Tensor last = strata::nn::embed_ids(*enc, rows, 0, options("last", 2), torch::kCPU);
  CHECK(max_abs_diff(first[0], first[1]) < 1e-6);  // causal: position 0 cannot see position 5
  CHECK(max_abs_diff(last[0], last[1]) > 1e-3);
}

TEST_CASE("encoders: mean-with-padding averages the padded positions of the row's batch") {
  const auto bert = strata::test::write_tiny_bert("bert_mwp", 4);
  auto enc = strata::nn::load_encoder(bert, "fp32", torch::kCPU);
  const auto rows = rows_of_lengths({4, 10, 7}, 5);
  // Batches of 2 in input order: {0, 1} padded to 10, {2} unpadded.
  const torch::Tensor got = strata::nn::embed_ids(*enc, rows, 0, options("mean-with-padding", 2), torch::kCPU);
  const torch::Tensor ids = torch::zeros({2, 10}, torch::kInt64);
  const torch::Tensor mask = torch::zeros({2, 10}, torch::kBool);
  for (int r = 0; r < 2; ++r)
    for (std::size_t t = 0; t < rows[r].size(); ++t) {
      ids[r][static_cast<std::int64_t>(t)] = rows[r][t];
      mask[r][static_cast<std::int64_t>(t)] = true;
    }
  const torch::Tensor expected = enc->forward(ids, mask).mean(1);
  CHECK(max_abs_diff(got.narrow(0, 0, 2), expected) < 1e-6);
  // Sorting is ignored for this pooling, so row 2 is embedded alone: its plain mean.
  const torch::Tensor mean = strata::nn::embed_ids(*enc, rows, 0, options("mean", 1), torch::kCPU);
  CHECK(max_abs_diff(got[2], mean[2]) < 1e-6);
  CHECK(max_abs_diff(got[0], mean[0]) > 1e-4);  // padding changed row 0
}

TEST_CASE("encoders: L2 normalisation, truncation and empty rows") {
  const auto bert = strata::test::write_tiny_bert("bert_misc", 6);
  auto enc = strata::nn::load_encoder(bert, "fp32", torch::kCPU);
  auto rows = rows_of_lengths({8, 200}, 9);
  EmbedOptions o = options("mean", 4);
  o.normalize = true;
  const torch::Tensor e = strata::nn::embed_ids(*enc, rows, 0, o, torch::kCPU);
  CHECK(max_abs_diff(e.norm(2, 1), torch::ones({2})) < 1e-5);
  // The 200-token row is cut to the model's 128 positions.
  EmbedOptions cut = options("last", 4);
  cut.max_tokens = 512;
  auto first128 = rows;
  first128[1].resize(128);
  CHECK(max_abs_diff(strata::nn::embed_ids(*enc, rows, 0, cut, torch::kCPU),
                     strata::nn::embed_ids(*enc, first128, 0, cut, torch::kCPU)) == 0.0);
  rows.push_back({});
  CHECK(contains(input_error([&] { strata::nn::embed_ids(*enc, rows, 0, o, torch::kCPU); }), "row 2 has no tokens"));
}

TEST_CASE("encoders: the same weights under a head-class prefix give the same model") {
  const auto plain = strata::test::write_tiny_bert("bert_plain", 8);
  const auto headed = strata::test::write_tiny_bert("bert_headed", 8, "bert.");
  const auto rows = rows_of_lengths({5, 9}, 3);
  auto a = strata::nn::load_encoder(plain, "fp32", torch::kCPU);
  auto b = strata::nn::load_encoder(headed, "fp32", torch::kCPU);
  CHECK(torch::equal(strata::nn::embed_ids(*a, rows, 0, options("mean", 8), torch::kCPU),
                     strata::nn::embed_ids(*b, rows, 0, options("mean", 8), torch::kCPU)));
  // The hash covers contents and names: equal weights in equal files hash alike.
  CHECK(strata::nn::weights_hash(plain).size() == 64);
  CHECK(strata::nn::weights_hash(plain) == strata::nn::weights_hash(plain));
  CHECK(strata::nn::weights_hash(plain) != strata::nn::weights_hash(headed));
}

TEST_CASE("encoders: bf16 and fp16 compute close to fp32") {
  const auto bert = strata::test::write_tiny_bert("bert_dtypes", 10);
  const auto rows = rows_of_lengths({6, 20, 11}, 4);
  auto f32 = strata::nn::load_encoder(bert, "fp32", torch::kCPU);
  const torch::Tensor ref = strata::nn::embed_ids(*f32, rows, 0, options("mean", 4), torch::kCPU);
  for (const std::string dtype : {"bf16", "fp16"}) {
    auto enc = strata::nn::load_encoder(bert, dtype, torch::kCPU);
    EmbedOptions o = options("mean", 4);
    o.dtype = dtype;
    const torch::Tensor e = strata::nn::embed_ids(*enc, rows, 0, o, torch::kCPU);
    CHECK(e.scalar_type() == torch::kFloat32);
    const torch::Tensor cos = torch::cosine_similarity(e, ref, 1);
    INFO(dtype << " min cosine " << cos.min().item<double>());
    CHECK(cos.min().item<double>() > 0.99);
  }
}

TEST_CASE("encoders: snapshots that do not fit fail with the file and the place") {
  const auto dir = strata::test::write_tiny_bert("bert_bad", 12);
  SECTION("unknown model_type") {
    std::ofstream(dir / "config.json") << R"({"model_type": "t5"})";
    const std::string msg = input_error([&] { strata::nn::load_encoder(dir, "fp32", torch::kCPU); });
    INFO(msg);
    CHECK(contains(msg, (dir / "config.json").string()));
    CHECK(contains(msg, "model_type 't5' is not supported"));
  }
  // The message of loading the snapshot once config.json's `key` says `value`.
  const auto with_config = [&](const char* key, int value) {
    std::ifstream in(dir / "config.json");
    nlohmann::json cfg = nlohmann::json::parse(in);
    cfg[key] = value;
    strata::test::write_config(dir, cfg);
    return input_error([&] { strata::nn::load_encoder(dir, "fp32", torch::kCPU); });
  };
  SECTION("config and weights disagree") {
    CHECK_THAT(with_config("intermediate_size", 96),
               strata::test::HasSubstring("tensor 'encoder.layer.0.intermediate.dense.weight' has shape [128, 64] but "
                                          "config.json implies [96, 64]"));
  }
  SECTION("more layers than weights") {
    CHECK_THAT(with_config("num_hidden_layers", 3),
               strata::test::HasSubstring("missing tensor 'encoder.layer.2.attention.self.query.weight'"));
  }
  SECTION("unknown dtype") {
    CHECK(contains(input_error([&] { strata::nn::load_encoder(dir, "int4", torch::kCPU); }),
                   "dtype 'int4' is not known"));
  }
}

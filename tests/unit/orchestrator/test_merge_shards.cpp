// Merging embedding shards: rows back in corpus order, every row from exactly one shard, and
// shards of one embedding from one model.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/test_support.h"
#include "workers/jobs.h"

using strata::workers::Payload;

namespace {

Payload shard(std::vector<std::int64_t> rows, std::int64_t width, const std::string& weights = "w1") {
  Payload p;
  const auto n = static_cast<std::int64_t>(rows.size());
  p.tensors["rows"] = torch::tensor(rows, torch::kInt64);
  // Row r's vector holds r in every entry, so the merged order can be read off.
  p.tensors["data"] = torch::tensor(rows, torch::kFloat32).view({n, 1}).expand({n, width}).contiguous();
  p.attrs = {{"model_path", "m"}, {"architecture", "bert"}, {"weights_hash", weights}, {"tokenizer_hash", "t"},
             {"pooling", "mean"},  {"dtype", "fp32"},         {"device", "cpu"}};
  p.numbers = {{"max_tokens", 64}, {"seconds", 1.5}};
  return p;
}

std::string run_error(const std::vector<const Payload*>& shards, std::int64_t rows) {
  try {
    strata::workers::merge_shards(shards, rows);
  } catch (const strata::RunError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("merge_shards puts every row back in corpus order", "[merge]") {
  const Payload a = shard({4, 0}, 3), empty = shard({}, 3), b = shard({1, 3, 2}, 3);
  const Payload merged = strata::workers::merge_shards({&a, &empty, &b}, 5);
  const auto expected = torch::arange(5, torch::kFloat32).view({5, 1}).expand({5, 3});
  CHECK(torch::equal(merged.tensor("data"), expected));
  CHECK(merged.tensors.count("rows") == 0);
  CHECK(merged.attrs.at("weights_hash") == "w1");
  CHECK(merged.numbers.at("shards") == 3);
  CHECK(merged.numbers.at("shard_seconds") == 4.5);
}

TEST_CASE("merge_shards refuses rows lost, rows twice and mixed models", "[merge]") {
  using strata::test::contains;
  const Payload a = shard({0, 1}, 2), b = shard({3}, 2), twice = shard({1, 2, 3}, 2), other = shard({2, 3}, 2, "w2");
  CHECK(contains(run_error({&a, &b}, 4), "leave corpus row 2 out"));
  CHECK(contains(run_error({&a, &twice}, 4), "row 1 is outside the corpus or in another shard too"));
  CHECK(contains(run_error({&a, &b}, 3), "row 3 is outside the corpus"));
  CHECK(contains(run_error({&a, &other}, 4), "differ in weights_hash"));
  const Payload narrow = shard({2}, 1);
  CHECK(contains(run_error({&a, &narrow, &b}, 4), "not one vector of width 2 per row"));
}

// Sharded text-model embeddings in the plan and the job graph: the shard count comes from the
// sweep alone, the embedding keeps its id whatever the count, and the graph merges the shards.
#include <algorithm>
#include <set>
#include <string>

#include "core/util/error.h"
#include "orchestrator/job_graph.h"
#include "orchestrator/plan.h"
#include "orchestrator/sweep.h"
#include "tests/catch.hpp"

using namespace strata;

namespace {

std::string sweep_text(const std::string& corpus, const std::string& cluster) {
  return "[experiment]\nname = \"x\"\n[corpus]\n" + corpus +
         "\n[[model]]\nname = \"m\"\npath = \"m\"\nbatch_size = 8\n"
         "[[model]]\nname = \"v\"\nimport = \"v.npy\"\n[analysis]\nnull_model = true\n[cluster]\n" +
         cluster + "\n";
}

const std::string kSources = "samples_per_source = 2500\n"
                             "[[corpus.source]]\nname = \"a\"\nformat = \"jsonl\"\npath = \"a.jsonl\"\n"
                             "[[corpus.source]]\nname = \"b\"\nformat = \"jsonl\"\npath = \"b.jsonl\"\n";

sweep::Sweep parse(const std::string& corpus, const std::string& cluster) {
  return sweep::parse_sweep(sweep_text(corpus, cluster), "s.toml");
}

}  // namespace

TEST_CASE("the shard count: set, or one per embed_shard_rows rows the sweep asks for", "[plan]") {
  CHECK(plan::embed_shard_count(parse(kSources, "")) == 5);  // 5000 rows, 1000 a shard
  CHECK(plan::embed_shard_count(parse(kSources, "embed_shard_rows = 2000")) == 3);
  CHECK(plan::embed_shard_count(parse(kSources, "embed_shard_rows = 1")) == 64);  // at most 64 automatic
  CHECK(plan::embed_shard_count(parse(kSources, "embed_shards = 100")) == 100);
  CHECK(plan::embed_shard_count(parse("table = \"t.jsonl\"", "")) == 1);  // no size in the sweep
  CHECK(plan::embed_shard_count(parse("table = \"t.jsonl\"", "embed_shards = 3")) == 3);
  CHECK_THROWS_AS(parse(kSources, "embed_shards = -1"), InputError);
  CHECK_THROWS_AS(parse(kSources, "embed_shard_rows = 0"), InputError);
}

TEST_CASE("shards leave the embedding's id and everything after it unchanged", "[plan]") {
  const auto one = plan::make_plan(parse(kSources, "embed_shards = 1"));
  const auto four = plan::make_plan(parse(kSources, "embed_shards = 4"));
  REQUIRE(one.embeds.size() == four.embeds.size());
  for (std::size_t i = 0; i < one.embeds.size(); ++i) CHECK(one.embeds[i].id == four.embeds[i].id);
  for (std::size_t i = 0; i < one.trains.size(); ++i) CHECK(one.trains[i].id == four.trains[i].id);
  CHECK(one.embed("m").shards.empty());
  const auto& m = four.embed("m");
  REQUIRE(m.shards.size() == 4);
  std::set<std::string> ids;
  for (const auto& sh : m.shards) ids.insert(sh.id);
  CHECK(ids.size() == 4);
  // Imports and null models are single jobs.
  CHECK(four.embed("v").shards.empty());
  CHECK(four.embed("m.null").shards.empty());
  // The shards' rows depend on the batching: their ids do too.
  auto other = parse(kSources, "embed_shards = 4");
  other.models[0].batch_size = 16;
  CHECK(plan::make_plan(other).embed("m").shards[0].id != m.shards[0].id);
}

TEST_CASE("the job graph: shards feed a merge that produces the embedding", "[plan]") {
  const auto s = parse(kSources, "embed_shards = 3");
  const auto p = plan::make_plan(s);
  const auto nodes = job_graph(s, p);
  const auto find = [&](const std::string& object) {
    auto it = std::find_if(nodes.begin(), nodes.end(), [&](const JobNode& n) { return n.request.object == object; });
    REQUIRE(it != nodes.end());
    return *it;
  };
  const auto merge = find("/embeddings/m");
  CHECK(merge.request.id == p.embed("m").id);
  CHECK(merge.request.inputs ==
        std::vector<std::string>{"/corpus", "/embedding_shards/m/0", "/embedding_shards/m/1", "/embedding_shards/m/2"});
  CHECK(merge.request.spec.at("kind") == "merge_shards");
  CHECK(!merge.intermediate);
  for (int k = 0; k < 3; ++k) {
    const auto shard = find(plan::shard_object("m", k));
    CHECK(shard.intermediate);
    CHECK(shard.request.inputs == std::vector<std::string>{"/corpus"});
    CHECK(shard.request.spec.at("shard") == k);
    CHECK(shard.request.spec.at("shards") == 3);
    CHECK(shard.request.affinity == find(plan::shard_object("m", 0)).request.affinity);
    CHECK(!shard.request.affinity.empty());
    CHECK(shard.request.cost * 3 == Catch::Approx(5000.0 * 512));  // a third of rows x max_tokens
  }
  CHECK(find("/embeddings/v").request.affinity.empty());
  // Training reads the merged embedding, never a shard.
  for (const auto& n : nodes)
    if (n.request.kind != "embed")
      for (const auto& in : n.request.inputs) CHECK(in.rfind("/embedding_shards/", 0) == std::string::npos);
}

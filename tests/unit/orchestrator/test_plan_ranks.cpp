// [cluster] ranks_per_train_job: where a train job runs, never what it computes. Train jobs
// ask for the ranks; every job id stays what it is with one rank.
#include <string>

#include "core/util/error.h"
#include "orchestrator/job_graph.h"
#include "orchestrator/plan.h"
#include "orchestrator/sweep.h"
#include "tests/catch.hpp"

using namespace strata;

namespace {

std::vector<JobNode> graph(const std::string& cluster) {
  const std::string text =
      "[experiment]\nname = \"x\"\n[corpus.synthetic]\ndim = 8\n[[corpus.synthetic.stratum]]\nname = \"a\"\n"
      "dim = 2\npoints = 30\n[moe]\natoms = [4, 6]\nsparsity = [1, 2]\ngrad_shards = 3\nstrata = [2, 3]\n[analysis]\n"
      "null_model = true\n[cluster]\n" + cluster + "\n";
  const auto s = sweep::parse_sweep(text, "s.toml");
  return job_graph(s, plan::make_plan(s));
}

}  // namespace

TEST_CASE("ranks_per_train_job: train jobs ask for the ranks, no job id changes", "[plan]") {
  const auto one = graph("");
  const auto three = graph("ranks_per_train_job = 3");
  REQUIRE(one.size() == three.size());
  std::size_t trains = 0;
  for (std::size_t i = 0; i < one.size(); ++i) {
    const auto& a = one[i].request;
    const auto& b = three[i].request;
    CHECK(a.object == b.object);
    CHECK(a.id == b.id);
    CHECK(one[i].config == three[i].config);
    CHECK(a.spec == b.spec);
    CHECK(a.ranks == 1);
    CHECK(b.ranks == (b.kind == "train" ? 3 : 1));
    trains += b.kind == "train";
  }
  CHECK(trains == 4);  // 2 embeddings (the space and its null) x 2 atom counts
  const auto back = workers::JobRequest::deserialize(three.back().request.serialize());
  CHECK(back.ranks == three.back().request.ranks);
  for (const auto& n : three)
    if (n.request.kind == "train") CHECK(workers::JobRequest::deserialize(n.request.serialize()).ranks == 3);
}

namespace {
// The message of the sweep's refusal ("" for none).
std::string refusal(const std::string& cluster) {
  try {
    graph(cluster);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("ranks_per_train_job below 1 is refused with its place", "[sweep]") {
  CHECK_THAT(refusal("ranks_per_train_job = 0"),
             Catch::Matchers::StartsWith("s.toml:17:23: cluster.ranks_per_train_job = 0 is out of range"));
  CHECK_THAT(refusal("ranks_per_train = 2"), strata::test::HasSubstring("(did you mean 'ranks_per_train_job'?)"));
}

TEST_CASE("more ranks per train job than gradient shards is refused with its place", "[sweep]") {
  CHECK_THAT(refusal("ranks_per_train_job = 4"),
             Catch::Matchers::StartsWith("s.toml:17:23: cluster.ranks_per_train_job = 4 needs moe.grad_shards >= 4"));
  CHECK(refusal("ranks_per_train_job = 3").empty());
}

// Where jobs go, without MPI: the policy MpiExecutor follows, driven event by event.
#include <string>
#include <vector>

#include "orchestrator/rank_placement.h"
#include "tests/catch.hpp"

namespace {

using strata::RankPlacement;
using strata::workers::JobRequest;

JobRequest job(const std::string& object, const std::string& kind, std::vector<std::string> embeddings = {},
               const std::string& affinity = "", int ranks = 1) {
  JobRequest r;
  r.object = object;
  r.kind = kind;
  r.inputs.push_back({"corpus", "/corpus"});
  for (auto& e : embeddings) r.inputs.push_back({"embedding", e});
  r.affinity = affinity;
  r.ranks = ranks;
  return r;
}

}  // namespace

TEST_CASE("placement: a job goes where its model and its inputs already are, else to the lowest rank", "[placement]") {
  RankPlacement p(4, 0.25);
  CHECK(p.pick(job("/t/a", "train", {"/embeddings/x"}), 1) == std::vector<int>{1});
  p.hold(3, "/embeddings/x");
  CHECK(p.pick(job("/t/a", "train", {"/embeddings/x"}), 2) == std::vector<int>{3, 1});
  // A model loaded elsewhere outweighs any input held; a rank with no model loses nothing.
  p.started(4, job("/embeddings/m", "embed", {}, "model:m"), false);
  p.finished(4, 1.0);
  p.started(2, job("/embeddings/n", "embed", {}, "model:n"), false);
  p.finished(2, 1.0);
  CHECK(p.pick(job("/embeddings/m2", "embed", {}, "model:m"), 4) == std::vector<int>{4, 1, 3, 2});
  CHECK(p.pick(job("/t/a", "train"), 9).size() == 4);  // at most what is idle
}

TEST_CASE("placement: a retry avoids the ranks it failed on, and waits for one while they are busy", "[placement]") {
  RankPlacement p(3, 0.25);
  const auto a = job("/t/a", "train");
  p.started(1, a, false);
  p.finished(1, 2.0);
  p.failed("/t/a", 1);
  CHECK(p.pick(a, 1) == std::vector<int>{2});
  p.started(2, job("/t/b", "train"), false);
  p.started(3, job("/t/c", "train"), false);
  CHECK_FALSE(p.can_take(a));  // rank 1 is idle but failed it; 2 and 3 will be free
  p.finished(3, 1.0);
  CHECK(p.can_take(a));
  CHECK(p.pick(a, 1) == std::vector<int>{3});
  // Failed everywhere: it takes what is idle rather than wait for ever.
  p.failed("/t/a", 2);
  p.failed("/t/a", 3);
  CHECK(p.can_take(a));
}

TEST_CASE("placement: short jobs queue one deep behind short single-rank jobs only", "[placement]") {
  RankPlacement p(2, 0.25);
  const auto quick = [](int i) { return job("/runs/r" + std::to_string(i), "analysis"); };
  CHECK_FALSE(p.queue_rank(quick(0)));  // no analysis has been seen yet: not known to be short
  p.started(1, quick(0), false);
  p.finished(1, 0.01);
  p.started(1, quick(1), false);
  p.started(2, job("/t/a", "train", {}, "", 2), true);
  CHECK_FALSE(p.has_room(job("/t/b", "train")));  // a train job never queues
  REQUIRE(p.queue_rank(quick(2)) == 1);           // behind the analysis, not the data-parallel group
  p.queued(1, quick(2));
  CHECK_FALSE(p.queue_rank(quick(3)));  // one deep
  p.finished(1, 0.02);                  // the queued job starts at once: rank 1 stays busy
  CHECK(p.idle_count() == 0);
  CHECK(p.queue_rank(quick(3)) == 1);
  p.finished(1, 0.5);  // now analysis jobs are not all short
  CHECK(p.idle_count() == 1);
  CHECK_FALSE(p.queue_rank(quick(4)));
}

TEST_CASE("placement: a lost rank gets no more work and jobs ask for the ranks left", "[placement]") {
  RankPlacement p(3, 0.25);
  const auto wide = job("/t/a", "train", {}, "", 3);
  CHECK(p.ranks_for(wide) == 3);
  p.started(2, job("/t/b", "train"), false);
  p.lost(2);
  CHECK(p.is_lost(2));
  CHECK(p.ranks_for(wide) == 2);
  p.finished(2, 1.0);  // a late result from it changes nothing
  CHECK(p.pick(wide, 3) == std::vector<int>{1, 3});
  CHECK_FALSE(p.all_lost());
  p.lost(1);
  p.lost(3);
  CHECK(p.all_lost());
  CHECK(p.ranks_for(wide) == 1);
  CHECK(p.pick(wide, 1).empty());
}

TEST_CASE("placement: an input no job needs is dropped by each rank holding it, once", "[placement]") {
  RankPlacement p(3, 0.25);
  p.hold(1, "/embeddings/x");
  p.hold(3, "/embeddings/x");
  p.hold(3, "/embeddings/y");
  p.release("/embeddings/x");
  CHECK(p.take_drops(1) == std::vector<std::string>{"/embeddings/x"});
  CHECK(p.take_drops(1).empty());
  CHECK(p.take_drops(2).empty());
  CHECK(p.take_drops(3) == std::vector<std::string>{"/embeddings/x"});
  CHECK_FALSE(p.holds(3, "/embeddings/x"));
  CHECK(p.holds(3, "/embeddings/y"));
}

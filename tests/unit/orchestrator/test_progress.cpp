#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "orchestrator/progress.h"
#include "tests/catch.hpp"

using namespace strata;
using progress::Failure;
using progress::Job;
using progress::Tally;

namespace {

// Train jobs of cost 1, 2, 3; analyses without a cost estimate; a corpus.
std::vector<Job> jobs() {
  return {{"/corpus", "corpus", "corpus", 1},
          {"/trained/t1", "train", "train t1", 1},
          {"/trained/t2", "train", "train t2", 2},
          {"/trained/t3", "train", "train t3", 3},
          {"/runs/a1", "analysis", "analysis a1", 0},
          {"/runs/a2", "analysis", "analysis a2", 0}};
}

std::vector<nlohmann::json> lines_of(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));  // throws if not JSON
  return out;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("the tally counts jobs per kind: computed, reused, failed", "[progress]") {
  Tally t;
  t.plan(jobs(), 2);
  CHECK(t.total() == 6);
  CHECK(t.kind_order() == std::vector<std::string>{"corpus", "train", "analysis"});
  CHECK(t.kinds().at("train").total == 3);

  t.reused("/corpus");
  t.started("/trained/t1", 1, 0);
  CHECK(t.ranks().at(1).object == "/trained/t1");
  t.done("/trained/t1", 1, 10);
  CHECK(t.ranks().at(1).object.empty());

  // A failed attempt that will be retried is not a failure yet.
  t.started("/trained/t2", 2, 10);
  t.failed("/trained/t2", 2, false, false);
  CHECK(t.kinds().at("train").failed == 0);
  t.started("/trained/t2", 1, 11);
  t.failed("/trained/t2", 1, true, false);
  // An input failed: the job never ran and no rank is involved.
  t.failed("/runs/a1", -1, true, false);
  // A rank given up stays marked.
  t.started("/trained/t3", 2, 12);
  t.failed("/trained/t3", 2, false, true);

  CHECK(t.kinds().at("corpus").reused == 1);
  CHECK(t.kinds().at("train").computed == 1);
  CHECK(t.kinds().at("train").failed == 1);
  CHECK(t.kinds().at("train").finished() == 2);
  CHECK(t.kinds().at("analysis").failed == 1);
  CHECK(t.computed() == 1);
  CHECK(t.reused_count() == 1);
  CHECK(t.failed_count() == 2);
  CHECK(t.finished() == 4);
  CHECK(t.ranks().at(2).lost);
  CHECK_FALSE(t.ranks().at(1).lost);
  CHECK_THROWS(t.started("/runs/nope", 1, 0));
}

TEST_CASE("the ETA spreads each kind's measured cost over the workers", "[progress]") {
  Tally t;
  t.plan(jobs(), 2);
  t.reused("/corpus");
  CHECK_FALSE(t.eta_seconds(0).has_value());  // nothing measured yet

  t.started("/trained/t1", 1, 0);
  t.done("/trained/t1", 1, 10);  // 10 s per unit of cost
  CHECK_FALSE(t.eta_seconds(10).has_value());  // analyses: none measured yet

  t.started("/runs/a1", 2, 0);
  t.done("/runs/a1", 2, 4);  // no costs: the kind's mean time, 4 s
  // t2 (cost 2) 20 s + t3 (cost 3) 30 s + a2 4 s, on 2 workers.
  REQUIRE(t.eta_seconds(10).has_value());
  CHECK(*t.eta_seconds(10) == Catch::Approx(27.0));

  // A running job counts what is left of its estimate, never less than nothing.
  t.started("/trained/t3", 1, 10);
  CHECK(*t.eta_seconds(15) == Catch::Approx((20.0 + 25.0 + 4.0) / 2));
  CHECK(*t.eta_seconds(50) == Catch::Approx((20.0 + 0.0 + 4.0) / 2));

  CHECK(t.jobs_per_minute(30) == Catch::Approx(4.0));  // 2 computed in half a minute
  CHECK(t.jobs_per_minute(0) == 0.0);

  t.done("/trained/t3", 1, 30);
  t.started("/trained/t2", 1, 40);
  t.done("/trained/t2", 1, 20);
  t.started("/runs/a2", 2, 40);
  t.done("/runs/a2", 2, 4);
  CHECK(*t.eta_seconds(60) == 0.0);
}

TEST_CASE("--log-json: one JSON object per line and event", "[progress]") {
  std::ostringstream out;
  {
    progress::JsonLines p(out);
    p.run_started(jobs(), 2, 0.5, "2 MPI worker ranks");
    p.job_reused("/corpus");
    p.job_started("/trained/t1", 1);
    p.heartbeat(1);  // no event of its own
    p.job_done("/trained/t1", 1, 10.5);
    p.job_started("/trained/t2", 2);
    p.job_failed("/trained/t2", Failure{"rank 2 silent for 3.0 s", 2, 1, 2, false, true});
    p.job_failed("/runs/a1", Failure{"an input failed: /trained/t2", -1, 0, 2, true, false});
    p.run_finished();
  }
  const auto ev = lines_of(out.str());
  std::vector<std::string> names;
  for (const auto& e : ev) {
    names.push_back(e.at("event"));
    CHECK(e.at("t").get<double>() >= 0);
  }
  CHECK(names == std::vector<std::string>{"run_started", "job_reused", "job_started", "job_done", "job_started",
                                          "job_failed", "job_failed", "run_finished"});

  CHECK(ev[0].at("total") == 6);
  CHECK(ev[0].at("jobs") == nlohmann::json{{"corpus", 1}, {"train", 3}, {"analysis", 2}});
  CHECK(ev[0].at("workers") == 2);
  CHECK(ev[1].at("job") == "/corpus");
  CHECK(ev[1].at("done") == 1);
  CHECK(ev[2].at("job") == "/trained/t1");
  CHECK(ev[2].at("kind") == "train");
  CHECK(ev[2].at("rank") == 1);
  CHECK(ev[3].at("seconds") == 10.5);
  CHECK(ev[3].at("done") == 2);
  CHECK(ev[3].at("total") == 6);
  CHECK(ev[5].at("error") == "rank 2 silent for 3.0 s");
  CHECK(ev[5].at("attempt") == 1);
  CHECK(ev[5].at("final") == false);
  CHECK(ev[5].at("rank_lost") == true);
  CHECK(ev[5].at("done") == 2);  // a retried job is not finished
  CHECK(ev[6].at("rank").is_null());
  CHECK(ev[6].at("done") == 3);
  CHECK(ev[7].at("computed") == 1);
  CHECK(ev[7].at("reused") == 1);
  CHECK(ev[7].at("failed") == 1);
  CHECK(ev[7].at("seconds").get<double>() >= 0);
}

TEST_CASE("the live display: a line per kind and per rank, silent ranks flagged", "[progress]") {
  Tally t;
  t.plan(jobs(), 2);
  t.reused("/corpus");
  t.started("/trained/t1", 1, 0);
  t.done("/trained/t1", 1, 10);
  t.started("/trained/t2", 1, 10);
  t.started("/runs/a1", 2, 10);
  t.heard(1, 19.5);
  const auto lines = render(t, 20, 1.0, 0);
  REQUIRE(lines.size() == 1 + 3 + 2);
  CHECK(contains(lines[0], "2/6 jobs"));
  CHECK(contains(lines[0], "ETA --"));  // no analysis measured yet
  CHECK(contains(lines[1], "corpus"));
  CHECK(contains(lines[1], "1/1"));
  CHECK(contains(lines[1], "reused 1"));
  CHECK(contains(lines[2], "1/3"));
  CHECK(contains(lines[2], "failed 0"));
  CHECK(contains(lines[4], "rank 1"));
  CHECK(contains(lines[4], "train t2"));
  CHECK(contains(lines[4], "10s"));
  CHECK_FALSE(contains(lines[4], "no heartbeat"));  // heard half a second ago
  CHECK(contains(lines[5], "analysis a1"));
  CHECK(contains(lines[5], "no heartbeat for 10 s"));

  for (const auto& l : render(t, 20, 1.0, 30)) CHECK(l.size() <= 30);
  // Without heartbeats (a single process) silence means nothing.
  CHECK_FALSE(contains(render(t, 20, 0.0, 0)[5], "no heartbeat"));
}

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "core/util/error.h"
#include "orchestrator/plan.h"
#include "orchestrator/sweep.h"
#include "tests/catch.hpp"

namespace fs = std::filesystem;
using namespace strata;

namespace {

fs::path source_dir() {
  const char* d = std::getenv("STRATA_SOURCE_DIR");
  return d ? fs::path(d) : fs::path(STRATA_TEST_SOURCE_DIR);
}

std::string expectation(const fs::path& file) {
  std::ifstream in(file);
  std::string first;
  std::getline(in, first);
  const std::string tag = "# expect: ";
  REQUIRE(first.rfind(tag, 0) == 0);
  return first.substr(tag.size());
}

}  // namespace

TEST_CASE("every malformed sweep gives its one-line error with file, line and column", "[sweep]") {
  std::size_t count = 0;
  for (const auto& entry : fs::directory_iterator(source_dir() / "tests/sweeps_bad")) {
    if (entry.path().extension() != ".toml") continue;
    ++count;
    const std::string expected = expectation(entry.path());
    INFO(entry.path().filename().string());
    std::string message;
    try {
      sweep::load_sweep(entry.path());
    } catch (const InputError& e) {
      message = e.what();
    }
    INFO(message);
    CHECK(message.find(expected) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
    // The message begins with the file name and, for errors at a place, LINE:COL.
    CHECK(message.rfind(entry.path().string(), 0) == 0);
  }
  CHECK(count >= 20);
}

TEST_CASE("the positions of errors point at the offending value", "[sweep]") {
  const std::string text = "[experiment]\nname = \"x\"\n[corpus.synthetic]\ndim = 8\n[[corpus.synthetic.stratum]]\n"
                           "name = \"a\"\n[moe]\natoms = 8\nsparsity = [2, 9]\n";
  try {
    sweep::parse_sweep(text, "s.toml");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).rfind("s.toml:9:", 0) == 0);
  }
}

TEST_CASE("the shipped sweeps parse and plan", "[sweep]") {
  for (const char* name : {"quickstart.toml", "ground_truth.toml", "paper.toml"}) {
    INFO(name);
    const auto s = sweep::load_sweep(source_dir() / "sweeps" / name);
    const auto p = plan::make_plan(s);
    CHECK(!p.trains.empty());
    CHECK(p.analyses.size() == p.trains.size() * s.analysis.expand().size());
  }
}

TEST_CASE("the paper's sweep is the paper's grid", "[sweep]") {
  const auto s = sweep::load_sweep(source_dir() / "sweeps/paper.toml");
  CHECK(s.corpus.sources.size() == 6);
  CHECK(s.corpus.samples_per_source == 500);
  CHECK(s.models.size() == 6);
  CHECK(s.moe.values("atoms") == std::vector<nlohmann::json>{32});
  CHECK(s.moe.values("sparsity") == std::vector<nlohmann::json>{{8, 12, 16, 20, 24, 28, 32}});
  CHECK(s.analysis.values("strata") == std::vector<nlohmann::json>{5});
  const auto p = plan::make_plan(s);
  CHECK(p.embeds.size() == 12);  // six models and their Gaussian nulls
  CHECK(plan::describe(p, s).find("experts=7 atoms=32 sparsity=[8,12,16,20,24,28,32]") != std::string::npos);
}

TEST_CASE("ids are deterministic and stratum counts share one trained model", "[sweep]") {
  const std::string text = "[experiment]\nname = \"x\"\n[corpus.synthetic]\ndim = 8\n[[corpus.synthetic.stratum]]\n"
                           "name = \"a\"\n[moe]\natoms = [8, 16]\nsparsity = [2, 4]\nstrata = [2, 3, 4]\nseeds = [0, 1]\n";
  const auto a = plan::make_plan(sweep::parse_sweep(text, "s.toml"));
  const auto b = plan::make_plan(sweep::parse_sweep(text, "s.toml"));
  REQUIRE(a.trains.size() == 4);
  REQUIRE(a.analyses.size() == 12);
  std::set<std::string> train_ids, run_ids;
  for (std::size_t i = 0; i < a.trains.size(); ++i) {
    CHECK(a.trains[i].id == b.trains[i].id);
    train_ids.insert(a.trains[i].id);
  }
  for (const auto& r : a.analyses) run_ids.insert(r.id);
  CHECK(train_ids.size() == 4);
  CHECK(run_ids.size() == 12);
  // Runs differing only in stratum count point at the same trained model.
  CHECK(a.analyses[0].train_id == a.analyses[1].train_id);
  CHECK(a.analyses[0].spec.strata != a.analyses[1].spec.strata);
  // Changing the seed of the experiment changes every id.
  const auto c = plan::make_plan(sweep::parse_sweep(std::regex_replace(text, std::regex("name = \"x\""), "name = \"x\"\nseed = 5"), "s.toml"));
  CHECK(c.corpus_id != a.corpus_id);
}

TEST_CASE("relative paths resolve against the sweep file's folder", "[sweep]") {
  const std::string text = "[experiment]\nname = \"x\"\narchive = \"out/a.h5\"\n[corpus]\ntable = \"t.jsonl\"\n"
                           "[[model]]\nname = \"m\"\nimport = \"../v.npy\"\n";
  const auto s = sweep::parse_sweep(text, "/data/study/s.toml");
  CHECK(s.experiment.archive == fs::path("/data/study/out/a.h5"));
  CHECK(*s.corpus.table == fs::path("/data/study/t.jsonl"));
  CHECK(s.models[0].import_path == fs::path("/data/v.npy"));
}

TEST_CASE("heartbeats: the timeout defaults to six intervals", "[sweep]") {
  const std::string base = "[experiment]\nname = \"x\"\n[corpus.synthetic]\ndim = 8\n[[corpus.synthetic.stratum]]\n"
                           "name = \"a\"\n";
  const auto plain = sweep::parse_sweep(base, "s.toml");
  CHECK(plain.cluster.heartbeat_s == 10);
  CHECK(plain.cluster.heartbeat_timeout() == 60);
  const auto fast = sweep::parse_sweep(base + "[cluster]\nheartbeat_s = 0.5\n", "s.toml");
  CHECK(fast.cluster.heartbeat_timeout() == 3);
  const auto set = sweep::parse_sweep(base + "[cluster]\nheartbeat_s = 2\nheartbeat_timeout_s = 5\n", "s.toml");
  CHECK(set.cluster.heartbeat_timeout() == 5);
  CHECK_THROWS_AS(sweep::parse_sweep(base + "[cluster]\nheartbeat_s = -1\n", "s.toml"), InputError);
}

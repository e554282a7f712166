// Strata found in the embedding are one job per embedding and analysis grid point, read by every
// run of that grid point; the runs link its results. Split or whole, the analysis computes the
// same numbers.
#include <torch/torch.h>

#include <string>

#include "core/data/synthetic.h"
#include "orchestrator/job_graph.h"
#include "orchestrator/plan.h"
#include "orchestrator/sweep.h"
#include "tests/catch.hpp"
#include "workers/jobs.h"

using namespace strata;

namespace {

// 2 trainings (atom counts) x 2 stratum counts on one synthetic embedding.
sweep::Sweep two_by_two(const std::string& analysis) {
  const std::string text =
      "[experiment]\nname = \"x\"\n[corpus.synthetic]\ndim = 8\n[[corpus.synthetic.stratum]]\nname = \"a\"\n"
      "dim = 2\npoints = 30\n[moe]\natoms = [4, 6]\nsparsity = [1, 2]\nstrata = [2, 3]\n[analysis]\n" + analysis + "\n";
  return sweep::parse_sweep(text, "s.toml");
}

std::vector<const JobNode*> of_kind(const std::vector<JobNode>& nodes, const std::string& kind) {
  std::vector<const JobNode*> out;
  for (const auto& n : nodes)
    if (n.request.kind == kind) out.push_back(&n);
  return out;
}

bool same(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) return false;
  if (!a.is_floating_point()) return torch::equal(a, b);
  return ((a == b) | (a.isnan() & b.isnan())).all().item<bool>();
}

bool under(const std::string& name, const std::string& path) {
  return name == path || name.rfind(path + "/", 0) == 0;
}

// A small synthetic space and a gating over it, as a run's inputs.
workers::AnalysisInputs inputs() {
  SyntheticSpec spec;
  spec.ambient_dim = 12;
  spec.noise = 0.01;
  spec.strata = {{"line", "linear", 1, 40, 2.0, 5.0, -1}, {"ball", "linear", 4, 40, 2.0, 5.0, -1},
                 {"sphere", "sphere", 2, 40, 1.5, 5.0, -1}};
  const auto data = generate_synthetic(spec);
  workers::AnalysisInputs in;
  in.space.X = data.points;
  in.space.features = data.points;
  in.space.domain = data.truth;
  in.space.domains = 3;
  in.space.truth = data.truth;
  in.space.true_dims = torch::tensor({1, 4, 2}, torch::kInt64);
  torch::manual_seed(3);
  in.gating = torch::softmax(torch::randn({data.points.size(0), 3}, torch::kFloat64), 1);
  in.sparsity = torch::tensor({1.0, 2.0, 4.0}, torch::kFloat64);
  return in;
}

analysis::AnalysisSpec small_analysis() {
  analysis::AnalysisSpec job;
  job.strata = 3;
  job.mle_k = 5;
  job.min_stratum = 10;
  job.bootstrap = 4;
  job.matched_repeats = 2;
  job.kmeans_restarts = 2;
  job.seed = 11;
  return job;
}

}  // namespace

TEST_CASE("strata on the embeddings: one strata job per stratum count, read and linked by its runs", "[plan]") {
  const auto s = two_by_two("bootstrap = 5");
  const auto p = plan::make_plan(s);
  const auto nodes = job_graph(s, p);
  const auto strata = of_kind(nodes, "strata");
  const auto runs = of_kind(nodes, "analysis");
  REQUIRE(strata.size() == 2);
  REQUIRE(runs.size() == 4);
  for (const auto* st : strata) {
    CHECK(st->request.object == "/strata/" + st->request.id);
    CHECK(st->request.inputs.size() == 2);
    CHECK(st->request.input("corpus") == "/corpus");
    CHECK(st->request.input("embedding") == "/embeddings/synthetic");
  }
  for (const auto& a : p.analyses) {
    const auto& st = p.strata_job(a.strata_id);
    CHECK(st.spec.strata == a.spec.strata);
    CHECK(st.embed_id == p.train(a.train_id).embed_id);
    CHECK(a.config.at("strata_job") == st.id);
    CHECK(a.config.at("strata") == a.spec.strata);  // the stratum count keeps its name
  }
  for (const auto* r : runs) {
    const auto& a = *std::find_if(p.analyses.begin(), p.analyses.end(), [&](const auto& x) { return x.id == r->request.id; });
    const std::string object = "/strata/" + a.strata_id;
    CHECK(r->request.input("strata") == object);
    const auto paths = workers::strata_paths(a.spec, true);
    REQUIRE(paths.size() > 0);
    for (const auto& path : paths) CHECK(r->links.at(path) == object + "/" + path);
    CHECK(r->links.at("analysis/ci/pca") == object + "/analysis/ci/pca");
  }
  CHECK(p.strata[0].truth);  // a synthetic space: its truth is linked too
  CHECK(runs[0]->links.count("analysis/truth/dim") == 1);
}

TEST_CASE("a run's id names its strata job: settings that change the strata change both", "[plan]") {
  const auto base = plan::make_plan(two_by_two(""));
  const auto other = plan::make_plan(two_by_two("mle_k = 7"));
  REQUIRE(base.strata.size() == other.strata.size());
  for (std::size_t i = 0; i < base.strata.size(); ++i) CHECK(base.strata[i].id != other.strata[i].id);
  for (std::size_t i = 0; i < base.analyses.size(); ++i) {
    CHECK(base.analyses[i].id != other.analyses[i].id);
    CHECK(base.analyses[i].train_id == other.analyses[i].train_id);  // training is not analysis
  }
  // What does not change results (the null model adds jobs) changes no strata id.
  const auto with_null = plan::make_plan(two_by_two("null_model = true"));
  CHECK(with_null.strata.size() == 4);  // the null embedding has its own
  CHECK(with_null.strata_job(base.strata[0].id).embedding == "synthetic");
  CHECK_FALSE(with_null.strata_job(with_null.analyses.back().strata_id).truth);  // a null has no truth
}

TEST_CASE("strata on the gating: no strata jobs, each run finds its own", "[plan]") {
  const auto s = two_by_two("strata_on = \"gating\"");
  const auto p = plan::make_plan(s);
  const auto nodes = job_graph(s, p);
  CHECK(p.strata.empty());
  CHECK(of_kind(nodes, "strata").empty());
  const auto runs = of_kind(nodes, "analysis");
  REQUIRE(runs.size() == 4);
  for (const auto* r : runs) {
    CHECK(r->request.inputs_of("strata").empty());
    for (const auto& [name, target] : r->links) CHECK(target.rfind("/trained/", 0) == 0);
  }
  for (const auto& a : p.analyses) CHECK_FALSE(a.config.contains("strata_job"));
}

TEST_CASE("a strata job holds exactly its paths, a run the rest: together the whole analysis", "[analysis]") {
  const auto job = small_analysis();
  const auto in = inputs();
  const auto strata = workers::run_strata(job, in.space);
  const auto run = workers::run_analysis(job, in, &strata);
  const auto whole = workers::run_analysis(job, in, nullptr);
  const auto paths = workers::strata_paths(job, true);
  for (const auto& path : paths) {
    INFO(path);
    CHECK(std::any_of(strata.tensors.begin(), strata.tensors.end(), [&](const auto& t) { return under(t.first, path); }));
  }
  for (const auto& [name, t] : strata.tensors) {
    INFO(name);
    CHECK(std::count_if(paths.begin(), paths.end(), [&](const auto& path) { return under(name, path); }) == 1);
  }
  for (const auto& [name, t] : run.tensors) {
    INFO(name);
    CHECK(std::none_of(paths.begin(), paths.end(), [&](const auto& path) { return under(name, path); }));
  }
  // Split in two, the same numbers as found in one job, bit for bit.
  CHECK(whole.tensors.size() == strata.tensors.size() + run.tensors.size());
  for (const auto& [name, t] : whole.tensors) {
    INFO(name);
    const auto& part = strata.tensors.count(name) ? strata.tensors.at(name) : run.tensor(name);
    CHECK(same(t, part));
  }
  CHECK(run.numbers == strata.numbers);  // attributes cannot be linked: the run holds them too
  CHECK(whole.numbers == strata.numbers);
  CHECK(run.tensors.count("analysis/truth/spearman/weighted_sparsity") == 1);
  CHECK(run.tensors.count("analysis/ci/weighted_sparsity") == 1);
  // Strata of another stratum count, or given to a run whose strata are on the gating: refused.
  auto more = job;
  more.strata = 4;
  CHECK_THROWS_WITH(workers::run_analysis(more, in, &strata), strata::test::HasSubstring("holds 3 strata, the run asks for 4"));
  auto gating = job;
  gating.strata_on = "gating";
  CHECK_THROWS_WITH(workers::run_analysis(gating, in, &strata), strata::test::HasSubstring("the run's own"));
  // Without truth or intervals, none is promised.
  auto plain = job;
  plain.bootstrap = 0;
  auto space = in.space;
  space.truth = space.true_dims = torch::Tensor();
  const auto bare = workers::run_strata(plain, space);
  for (const auto& path : workers::strata_paths(plain, false))
    CHECK(std::any_of(bare.tensors.begin(), bare.tensors.end(), [&](const auto& t) { return under(t.first, path); }));
  for (const auto& [name, t] : bare.tensors) CHECK(name.find("truth") == std::string::npos);
  for (const auto& [name, t] : bare.tensors) CHECK(name.find("/ci/") == std::string::npos);
}

#include "workers/executor.h"

#include <csignal>
#include <cstdlib>

#include "core/util/error.h"

namespace strata::workers {

namespace {

const Payload& input(const Inputs& in, const std::string& object) {
  auto it = in.find(object);
  if (it == in.end()) fail_run("job input {} is missing", object);
  return it->second;
}

torch::Tensor domain_index(const Payload& corpus, std::int64_t* count) {
  const auto& names = corpus.strings.at("source_names");
  const auto& source = corpus.strings.at("source");
  std::vector<std::int64_t> idx;
  idx.reserve(source.size());
  for (const auto& s : source) idx.push_back(std::find(names.begin(), names.end(), s) - names.begin());
  *count = static_cast<std::int64_t>(names.size());
  return torch::tensor(idx, torch::kInt64);
}

// Fault injection for the failure-handling tests: STRATA_INJECT_FAILURE="KIND" makes every
// job of that kind fail; "KIND@RANK" only on that MPI world rank (OMPI_COMM_WORLD_RANK or
// PMI_RANK), so a retry elsewhere succeeds. "hang:KIND@RANK" freezes that rank's whole
// process instead (SIGSTOP: its heartbeats stop too), as a hung node would look.
void inject_failure(const JobRequest& r) {
  const char* spec = std::getenv("STRATA_INJECT_FAILURE");
  if (!spec || !*spec) return;
  const std::string s(spec);
  const bool hang = s.rfind("hang:", 0) == 0;
  std::string kind = hang ? s.substr(5) : s, rank;
  if (auto at = kind.find('@'); at != std::string::npos) rank = kind.substr(at + 1), kind.resize(at);
  if (kind != r.kind) return;
  const char* mine = std::getenv("OMPI_COMM_WORLD_RANK");
  if (!mine) mine = std::getenv("PMI_RANK");
  if (!rank.empty() && rank != (mine ? mine : "0")) return;
  if (hang) {
    std::raise(SIGSTOP);  // goes on with the job after a SIGCONT
    return;
  }
  fail_run("injected failure of {} job {} (STRATA_INJECT_FAILURE={})", r.kind, r.id, s);
}

// A member of a data-parallel group that fails before training tells the others, which
// would otherwise wait for it in training's first collective.
Payload execute_train(const JobRequest& r, const Inputs& in, torch::Device device, cluster::ProcessGroup* group) {
  TrainJob job;
  const torch::Tensor *X = nullptr, *labels = nullptr;
  cluster::run_together(group, device, [&] {
    inject_failure(r);
    job = train_job_from_json(r.spec);
    X = &input(in, r.inputs.at(1)).tensor("data");
    labels = &input(in, "/corpus").tensor("label");
  });
  return run_train(job, *X, *labels, device, group);
}

}  // namespace

std::string JobRequest::serialize() const {
  const nlohmann::json j{{"object", object}, {"id", id},     {"kind", kind},         {"spec", spec},
                         {"inputs", inputs}, {"cost", cost}, {"affinity", affinity}, {"ranks", ranks}};
  return j.dump();
}

JobRequest JobRequest::deserialize(const std::string& bytes) {
  const auto j = nlohmann::json::parse(bytes);
  JobRequest r;
  r.object = j.at("object");
  r.id = j.at("id");
  r.kind = j.at("kind");
  r.spec = j.at("spec");
  r.inputs = j.at("inputs").get<std::vector<std::string>>();
  r.cost = j.at("cost");
  r.affinity = j.at("affinity");
  r.ranks = j.at("ranks");
  return r;
}

Payload execute(const JobRequest& r, const Inputs& in, torch::Device device, cluster::ProcessGroup* group) {
  if (r.kind == "train") return execute_train(r, in, device, group);
  inject_failure(r);
  if (r.kind == "corpus") return corpus_payload(build_corpus(corpus_job_from_json(r.spec)));
  if (r.kind == "embed") {
    const auto job = embed_job_from_json(r.spec);
    if (job.kind == "merge_shards") {
      std::vector<const Payload*> shards;
      for (std::size_t i = 1; i < r.inputs.size(); ++i) shards.push_back(&input(in, r.inputs[i]));
      return merge_shards(shards, static_cast<std::int64_t>(input(in, "/corpus").strings.at("text").size()));
    }
    const Corpus corpus = corpus_from_payload(input(in, "/corpus"));
    if (job.kind != "null_model") return run_embed(job, corpus, device);
    const auto& source = input(in, r.inputs.at(1)).tensor("data");
    return run_embed(job, corpus, device, &source);
  }
  if (r.kind == "analysis") {
    const auto& corpus = input(in, "/corpus");
    const auto& trained = input(in, r.inputs.at(2));
    AnalysisInputs ai;
    ai.X = input(in, r.inputs.at(1)).tensor("data");
    ai.gating = trained.tensor("out/gating");
    ai.sparsity = trained.tensor("sparsity");
    ai.domain = domain_index(corpus, &ai.domains);
    return run_analysis(analysis_job_from_json(r.spec), ai);
  }
  fail_run("unknown job kind '{}'", r.kind);
}

}  // namespace strata::workers

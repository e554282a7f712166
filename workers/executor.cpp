#include "workers/executor.h"

#include <csignal>
#include <cstdlib>

#include <fmt/format.h>

#include "core/util/crash_point.h"
#include "core/util/error.h"
#include "core/util/log.h"

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
// job of that kind fail; "KIND@RANK" only on that MPI world rank, so a retry elsewhere
// succeeds. "hang:KIND@RANK" freezes that rank's whole process instead (SIGSTOP: its heartbeats
// stop too), as a hung node would look. Read as core/util/crash_point.h's FaultSpec.
void inject_failure(const JobRequest& r) {
  static const std::optional<FaultSpec> spec = fault_from_env("STRATA_INJECT_FAILURE");
  // Models trained together are train jobs to the tests: a group fails as its members would.
  const std::string kind = r.kind == "train_group" ? "train" : r.kind;
  if (!spec || spec->point != kind || !spec->on_this_rank()) return;
  if (spec->mode == "hang") {
    std::raise(SIGSTOP);  // goes on with the job after a SIGCONT
    return;
  }
  fail_run("injected failure of {} job {} (STRATA_INJECT_FAILURE={})", r.kind, r.id, std::getenv("STRATA_INJECT_FAILURE"));
}

const torch::Tensor* find(const Payload& p, const std::string& name) {
  const auto it = p.tensors.find(name);
  return it == p.tensors.end() ? nullptr : &it->second;
}

// A corpus row's value for each embedding row: the row itself, or for token rows (pooling
// "tokens") the text the token is in.
torch::Tensor per_row(const torch::Tensor& by_text, const Payload& embedding) {
  const torch::Tensor* text_row = find(embedding, "text_row");
  return text_row ? by_text.index_select(0, *text_row) : by_text;
}

StrataInputs strata_inputs(const Payload& corpus, const Payload& embedding) {
  StrataInputs si;
  si.X = embedding.tensor("data");
  si.features = si.X;
  si.domain = per_row(domain_index(corpus, &si.domains), embedding);
  if (const auto* t = find(embedding, "truth")) si.truth = *t;
  if (const auto* t = find(embedding, "truth_dim")) si.true_dims = *t;
  return si;
}

AnalysisInputs analysis_inputs(const analysis::AnalysisSpec& job, const Payload& corpus, const Payload& embedding,
                               const Payload& trained) {
  AnalysisInputs ai;
  ai.space = strata_inputs(corpus, embedding);
  ai.gating = trained.tensor("out/gating");
  if (job.strata_on == "gating") ai.space.features = ai.gating;
  ai.sparsity = trained.tensor("sparsity");
  if (const auto* t = find(trained, "out/recon_error")) ai.recon_error = *t;
  if (const auto* t = find(trained, "out/support")) ai.support = *t;
  if (const auto* t = find(trained, "params/lista_theta")) ai.thresholds = *t;
  for (const char* name : {"input_mean", "input_std", "pca_mean", "pca_components"})
    if (const auto* t = find(trained, std::string("params/") + name)) ai.input_stats[name] = *t;
  if (const auto gate = trained.attrs.find("gate_training"); gate != trained.attrs.end()) ai.gate_training = gate->second;
  if (ai.recon_error.defined() && !ai.support.defined()) ai.recon_error = torch::Tensor();
  return ai;
}

// A run reads its strata job when it has one (strata_on = "embeddings").
Payload execute_analysis(const JobRequest& r, const Inputs& in, const std::string& what) {
  const auto job = spec::from_json<analysis::AnalysisSpec>(r.spec, what);
  const auto& corpus = input(in, r.input("corpus"));
  const auto& embedding = input(in, r.input("embedding"));
  const auto ai = analysis_inputs(job, corpus, embedding, input(in, r.input("trained")));
  const auto shared = r.inputs_of("strata");
  return run_analysis(job, ai, shared.empty() ? nullptr : &input(in, shared.front()));
}

// A member of a data-parallel group that fails before training tells the others, which
// would otherwise wait for it in training's first collective.
Payload execute_train(const JobRequest& r, const Inputs& in, torch::Device device, parallel::ProcessGroup* group) {
  moe::MoeConfig job;
  const torch::Tensor* X = nullptr;
  torch::Tensor labels;
  parallel::run_together(group, device, [&] {
    inject_failure(r);
    job = spec::from_json<moe::MoeConfig>(r.spec, "train job " + r.id);
    const Payload& embedding = input(in, r.input("embedding"));
    X = &embedding.tensor("data");
    labels = per_row(input(in, r.input("corpus")).tensor("label"), embedding);
  });
  return run_train(job, *X, labels, device, group);
}

// Train jobs trained together: each member's payload under "members/<k>/" (fused_member_prefix).
Payload execute_train_group(const JobRequest& r, const Inputs& in, torch::Device device) {
  inject_failure(r);
  std::vector<moe::MoeConfig> cfgs;
  const auto& members = r.spec.at("members");
  for (const auto& m : members) cfgs.push_back(spec::from_json<moe::MoeConfig>(m.at("spec"), "train job " + m.at("id").get<std::string>()));
  const Payload& embedding = input(in, r.input("embedding"));
  log::info("training {} models together on {} ({})", cfgs.size(), r.input("embedding"), device.str());
  const auto payloads = run_train_group(cfgs, embedding.tensor("data"), device);
  Payload all;
  for (std::size_t k = 0; k < payloads.size(); ++k) all.nest(payloads[k], fused_member_prefix(k));
  return all;
}

// An embedding's geometry, its points grouped by their true strata where the space knows them,
// else by the source each row (or its text) came from.
Payload execute_geometry(const JobRequest& r, const Inputs& in, torch::Device device, const std::string& what) {
  const auto job = spec::from_json<analysis::GeometrySpec>(r.spec, what);
  const Payload& corpus = input(in, r.input("corpus"));
  const Payload& embedding = input(in, r.input("embedding"));
  std::map<std::string, torch::Tensor> others;
  for (const auto& object : r.inputs_of("compare")) others[object.substr(object.rfind('/') + 1)] = input(in, object).tensor("data");
  if (const auto* truth = find(embedding, "truth")) {
    std::vector<std::string> names;
    for (std::int64_t k = 0; k <= truth->max().item<std::int64_t>(); ++k) names.push_back(fmt::format("stratum {}", k));
    return run_geometry(job, embedding.tensor("data"), *truth, names, "truth", others, device);
  }
  std::int64_t domains = 0;
  const torch::Tensor domain = per_row(domain_index(corpus, &domains), embedding);
  return run_geometry(job, embedding.tensor("data"), domain, corpus.strings.at("source_names"), "source", others,
                      device);
}

}  // namespace

std::string JobRequest::serialize() const {
  nlohmann::json in = nlohmann::json::array();
  for (const auto& i : inputs) in.push_back({i.role, i.object});
  const nlohmann::json j{{"object", object}, {"id", id},     {"kind", kind},         {"spec", spec},
                         {"inputs", in},     {"cost", cost}, {"affinity", affinity}, {"ranks", ranks}};
  return j.dump();
}

nlohmann::json parse_message_json(std::string_view text, const std::string& what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail_run("{}: not JSON ({})", what, e.what());
  }
}

namespace {

const nlohmann::json& member(const nlohmann::json& j, const char* key, const char* what) {
  if (!j.is_object() || !j.contains(key)) fail_run("job request: {} '{}' missing", what, key);
  return j.at(key);
}

std::string string_member(const nlohmann::json& j, const char* key) {
  const auto& v = member(j, key, "string");
  if (!v.is_string()) fail_run("job request: '{}' is not a string", key);
  return v.get<std::string>();
}

}  // namespace

std::string fused_member_prefix(std::size_t k) { return fmt::format("members/{}/", k); }

JobRequest fused_request(const std::vector<const JobRequest*>& members) {
  if (members.empty()) fail_run("a fused train job needs members");
  const auto& lead = *members.front();
  JobRequest r;
  r.object = lead.object;  // the group is known by its first member's object while it runs
  r.id = lead.id;
  r.kind = "train_group";
  r.inputs = lead.inputs;
  r.affinity = lead.affinity;
  r.cost = 0;
  nlohmann::json list = nlohmann::json::array();
  for (const auto* m : members) {
    if (m->kind != "train" || m->inputs != lead.inputs) fail_run("train job {} cannot train with {}", m->id, lead.id);
    list.push_back({{"object", m->object}, {"id", m->id}, {"spec", m->spec}});
    r.cost += m->cost;
  }
  r.spec = {{"members", list}};
  return r;
}

JobRequest JobRequest::deserialize(const std::string& bytes) {
  const auto j = parse_message_json(bytes, "job request");
  JobRequest r;
  r.object = string_member(j, "object");
  r.id = string_member(j, "id");
  r.kind = string_member(j, "kind");
  r.spec = member(j, "spec", "object");
  r.affinity = string_member(j, "affinity");
  for (const auto& i : member(j, "inputs", "list")) {
    if (!i.is_array() || i.size() != 2 || !i[0].is_string() || !i[1].is_string())
      fail_run("job request: an input is not a [role, object] pair");
    r.inputs.push_back({i[0].get<std::string>(), i[1].get<std::string>()});
  }
  const auto& cost = member(j, "cost", "number");
  if (!cost.is_number()) fail_run("job request: 'cost' is not a number");
  r.cost = cost.get<double>();
  const auto& ranks = member(j, "ranks", "integer");
  if (!ranks.is_number_integer() || ranks.get<std::int64_t>() < 1 || ranks.get<std::int64_t>() > (1 << 20))
    fail_run("job request: 'ranks' is not a rank count");
  r.ranks = static_cast<int>(ranks.get<std::int64_t>());
  return r;
}

const std::string& JobRequest::input(const std::string& role) const {
  for (const auto& i : inputs)
    if (i.role == role) return i.object;
  fail_run("{} job {} has no {} input", kind, id, role);
}

std::vector<std::string> JobRequest::inputs_of(const std::string& role) const {
  std::vector<std::string> out;
  for (const auto& i : inputs)
    if (i.role == role) out.push_back(i.object);
  return out;
}

Payload execute(const JobRequest& r, const Inputs& in, torch::Device device, parallel::ProcessGroup* group) {
  const std::string what = r.kind + " job " + r.id;
  if (r.kind == "train") return execute_train(r, in, device, group);
  if (r.kind == "train_group") return execute_train_group(r, in, device);
  inject_failure(r);
  if (r.kind == "corpus") return corpus_payload(build_corpus(spec::from_json<CorpusSpec>(r.spec, what)));
  if (r.kind == "embed") {
    const auto job = spec::from_json<nn::EmbedSpec>(r.spec, what);
    const auto& corpus_payload = input(in, r.input("corpus"));
    if (job.kind == "merge_shards") {
      std::vector<const Payload*> shards;
      for (const auto& object : r.inputs_of("shard")) shards.push_back(&input(in, object));
      return merge_shards(shards, static_cast<std::int64_t>(corpus_payload.strings.at("text").size()));
    }
    if (job.kind == "layer_of") return layer_of(job, input(in, r.input("layers")));
    const Corpus corpus = corpus_from_payload(corpus_payload);
    if (job.kind != "null_model") return run_embed(job, corpus, device);
    // A null model's rows stand for its source's: token rows keep the texts they are in.
    const Payload& source = input(in, r.input("source"));
    Payload null = run_embed(job, corpus, device, &source.tensor("data"));
    for (const char* meta : {"text_row", "position", "token_id"})
      if (const auto* t = find(source, meta)) null.tensors[meta] = *t;
    return null;
  }
  if (r.kind == "strata")
    return run_strata(spec::from_json<analysis::AnalysisSpec>(r.spec, what),
                      strata_inputs(input(in, r.input("corpus")), input(in, r.input("embedding"))));
  if (r.kind == "analysis") return execute_analysis(r, in, what);
  if (r.kind == "geometry") return execute_geometry(r, in, device, what);
  fail_run("unknown job kind '{}'", r.kind);
}

}  // namespace strata::workers

// JSON forms of the job specs: how a job travels to a worker rank.
#include <nlohmann/json.hpp>

#include "workers/executor.h"

namespace strata::workers {

namespace {

nlohmann::json synthetic_json(const SyntheticSpec& s) {
  nlohmann::json strata = nlohmann::json::array();
  for (const auto& st : s.strata)
    strata.push_back({{"name", st.name}, {"kind", st.kind}, {"dim", st.dim}, {"points", st.points},
                      {"scale", st.scale}, {"offset", st.offset}, {"noise", st.noise}});
  return {{"dim", s.ambient_dim}, {"noise", s.noise}, {"seed", s.seed}, {"strata", strata}};
}

SyntheticSpec synthetic_from(const nlohmann::json& j) {
  SyntheticSpec s;
  s.ambient_dim = j.at("dim");
  s.noise = j.at("noise");
  s.seed = j.at("seed");
  for (const auto& st : j.at("strata"))
    s.strata.push_back({st.at("name"), st.at("kind"), st.at("dim"), st.at("points"), st.at("scale"),
                        st.at("offset"), st.at("noise")});
  return s;
}

}  // namespace

nlohmann::json to_json(const CorpusJob& j) {
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& s : j.sources)
    sources.push_back({{"name", s.name}, {"format", s.format}, {"split", s.split}, {"text_field", s.text_field},
                       {"label_field", s.label_field}, {"id_field", s.id_field}, {"source_column", s.source_column},
                       {"path", s.path.string()}, {"text_fields", s.text_fields}});
  nlohmann::json out{{"sources", sources}, {"per_source", j.per_source}, {"sampling", j.sampling},
                     {"balance_labels", j.balance_labels}, {"min_chars", j.min_chars}, {"max_chars", j.max_chars},
                     {"seed", j.seed}};
  if (j.table) out["table"] = j.table->string();
  if (j.synthetic) out["synthetic"] = synthetic_json(*j.synthetic);
  return out;
}

CorpusJob corpus_job_from_json(const nlohmann::json& j) {
  CorpusJob c;
  for (const auto& s : j.at("sources"))
    c.sources.push_back({s.at("name"), s.at("format"), s.at("split"), s.at("text_field"), s.at("label_field"),
                         s.at("id_field"), s.at("source_column"), s.at("path").get<std::string>(),
                         s.at("text_fields").get<std::vector<std::string>>()});
  c.per_source = j.at("per_source");
  c.sampling = j.at("sampling");
  c.balance_labels = j.at("balance_labels");
  c.min_chars = j.at("min_chars");
  c.max_chars = j.at("max_chars");
  c.seed = j.at("seed");
  if (j.contains("table")) c.table = j.at("table").get<std::string>();
  if (j.contains("synthetic")) c.synthetic = synthetic_from(j.at("synthetic"));
  return c;
}

nlohmann::json to_json(const EmbedJob& j) {
  nlohmann::json out{{"kind", j.kind}, {"model_path", j.model_path.string()}, {"import_path", j.import_path.string()},
                     {"import_dataset", j.import_dataset}, {"pooling", j.pooling}, {"dtype", j.dtype},
                     {"max_tokens", j.max_tokens}, {"batch_size", j.batch_size}, {"batch_tokens", j.batch_tokens},
                     {"normalize", j.normalize},
                     {"seed", j.seed}, {"shard", j.shard}, {"shards", j.shards}};
  if (j.synthetic) out["synthetic"] = synthetic_json(*j.synthetic);
  return out;
}

EmbedJob embed_job_from_json(const nlohmann::json& j) {
  EmbedJob e;
  e.kind = j.at("kind");
  e.model_path = j.at("model_path").get<std::string>();
  e.import_path = j.at("import_path").get<std::string>();
  e.import_dataset = j.at("import_dataset");
  e.pooling = j.at("pooling");
  e.dtype = j.at("dtype");
  e.max_tokens = j.at("max_tokens");
  e.batch_size = j.at("batch_size");
  e.batch_tokens = j.at("batch_tokens");
  e.normalize = j.at("normalize");
  e.seed = j.at("seed");
  e.shard = j.at("shard");
  e.shards = j.at("shards");
  if (j.contains("synthetic")) e.synthetic = synthetic_from(j.at("synthetic"));
  return e;
}

nlohmann::json to_json(const TrainJob& j) {
  return {{"atoms", j.atoms}, {"lista_steps", j.lista_steps}, {"gate_dim", j.gate_dim}, {"epochs", j.epochs},
          {"batch_size", j.batch_size}, {"pca_dim", j.pca_dim}, {"sparsity", j.sparsity}, {"gate", j.gate},
          {"preset", j.preset}, {"lr", j.lr}, {"load_balance", j.load_balance}, {"entropy_weight", j.entropy_weight},
          {"standardize", j.standardize}, {"seed", j.seed}};
}

TrainJob train_job_from_json(const nlohmann::json& c) {
  TrainJob j;
  j.atoms = c.at("atoms");
  j.sparsity = c.at("sparsity").get<std::vector<std::int64_t>>();
  j.lista_steps = c.at("lista_steps");
  j.gate = c.at("gate");
  j.lr = c.at("lr");
  j.seed = c.at("seed");
  j.gate_dim = c.at("gate_dim");
  j.epochs = c.at("epochs");
  j.batch_size = c.at("batch_size");
  j.pca_dim = c.at("pca_dim");
  j.load_balance = c.at("load_balance");
  j.entropy_weight = c.at("entropy_weight");
  j.standardize = c.at("standardize");
  j.preset = c.at("preset");
  return j;
}

nlohmann::json to_json(const AnalysisJob& j) {
  return {{"strata", j.strata}, {"strata_on", j.strata_on}, {"pca_dim", j.pca_dim},
          {"kmeans_restarts", j.kmeans_restarts}, {"mle_k", j.mle_k}, {"bootstrap", j.bootstrap},
          {"variance_fraction", j.variance_fraction}, {"seed", j.seed}};
}

AnalysisJob analysis_job_from_json(const nlohmann::json& c) {
  AnalysisJob j;
  j.strata = c.at("strata");
  j.strata_on = c.at("strata_on");
  j.pca_dim = c.at("pca_dim");
  j.kmeans_restarts = c.at("kmeans_restarts");
  j.mle_k = c.at("mle_k");
  j.bootstrap = c.at("bootstrap");
  j.variance_fraction = c.at("variance_fraction");
  j.seed = c.at("seed");
  return j;
}

}  // namespace strata::workers

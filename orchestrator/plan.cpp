#include "orchestrator/plan.h"

#include <algorithm>
#include <cmath>

#include <fmt/ranges.h>

#include "core/util/error.h"
#include "core/util/hash.h"

namespace strata::plan {

namespace {

// Bumped when a job's meaning changes, so stale archives are not reused by mistake.
constexpr int kFormat = 1;

nlohmann::json corpus_config(const sweep::Sweep& s) {
  const auto& c = s.corpus;
  nlohmann::json j{{"format", kFormat}, {"seed", s.seed}};
  if (c.synthetic) {
    nlohmann::json strata = nlohmann::json::array();
    for (const auto& st : c.synthetic->strata)
      strata.push_back({{"name", st.name}, {"kind", st.kind}, {"dim", st.dim}, {"points", st.points},
                        {"scale", st.scale}, {"offset", st.offset}, {"noise", st.noise}});
    j["synthetic"] = {{"dim", c.synthetic->ambient_dim}, {"noise", c.synthetic->noise}, {"strata", strata}};
    return j;
  }
  j["sampling"] = {{"per_source", c.samples_per_source}, {"mode", c.sampling}, {"balance_labels", c.balance_labels},
                   {"min_chars", c.min_chars}, {"max_chars", c.max_chars}};
  if (c.table) j["table"] = c.table->string();
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& src : c.sources)
    sources.push_back({{"name", src.name}, {"format", src.format}, {"path", src.path.string()}, {"split", src.split},
                       {"text_field", src.text_field}, {"label_field", src.label_field}, {"id_field", src.id_field},
                       {"source_column", src.source_column}, {"text_fields", src.text_fields}});
  j["sources"] = sources;
  return j;
}

nlohmann::json model_config(const sweep::ModelSpec& m) {
  if (m.is_import()) return {{"import", m.import_path.string()}, {"dataset", m.import_dataset}};
  return {{"path", m.path.string()}, {"pooling", m.pooling}, {"dtype", m.dtype}, {"max_tokens", m.max_tokens},
          {"normalize", m.normalize}};
}

EmbedJob make_embed(const std::string& corpus_id, std::string name, EmbedKind kind, nlohmann::json config) {
  EmbedJob e;
  e.name = std::move(name);
  e.kind = kind;
  config["corpus"] = corpus_id;
  config["name"] = e.name;
  e.config = std::move(config);
  e.id = job_id(e.config);
  return e;
}

// The shard's id covers what decides its rows: the shard count and the batching (a shard is
// a run of whole batches).
void add_shards(EmbedJob& e, std::int64_t shards) {
  if (e.kind != EmbedKind::text_model || shards < 2) return;
  for (std::int64_t k = 0; k < shards; ++k) {
    EmbedShard sh;
    sh.index = k;
    sh.config = e.config;
    sh.config["embed"] = e.id;
    sh.config["shard"] = k;
    sh.config["shards"] = shards;
    sh.config["batch_size"] = e.model.batch_size;
    sh.config["batch_tokens"] = e.model.batch_tokens;
    sh.id = job_id(sh.config);
    e.shards.push_back(sh);
  }
}

void add_embeds(const sweep::Sweep& s, Plan& p) {
  if (s.corpus.synthetic) p.embeds.push_back(make_embed(p.corpus_id, "synthetic", EmbedKind::synthetic, {{"kind", "synthetic"}}));
  const std::int64_t shards = embed_shard_count(s);
  for (const auto& m : s.models) {
    auto e = make_embed(p.corpus_id, m.name, m.is_import() ? EmbedKind::import : EmbedKind::text_model, model_config(m));
    e.model = m;
    add_shards(e, shards);
    p.embeds.push_back(e);
  }
  if (!s.analysis.null_model) return;
  const std::size_t real = p.embeds.size();
  for (std::size_t i = 0; i < real; ++i) {
    auto e = make_embed(p.corpus_id, p.embeds[i].name + ".null", EmbedKind::null_model,
                        {{"null_of", p.embeds[i].id}, {"seed", s.seed}});
    e.null_of = p.embeds[i].name;
    p.embeds.push_back(e);
  }
}

void add_trains(const sweep::Sweep& s, Plan& p) {
  const auto& m = s.moe;
  for (const auto& e : p.embeds)
    for (auto atoms : m.atoms)
      for (const auto& set : m.sparsity_sets)
        for (auto steps : m.lista_steps)
          for (const auto& gate : m.gates)
            for (auto lr : m.lr)
              for (auto seed : m.seeds) {
                TrainJob t;
                t.embedding = e.name;
                t.embed_id = e.id;
                t.config = {{"embed", e.id}, {"embedding", e.name}, {"atoms", atoms}, {"sparsity", set},
                            {"lista_steps", steps}, {"gate", gate}, {"lr", lr}, {"seed", seed},
                            {"gate_dim", m.gate_dim}, {"epochs", m.epochs}, {"batch_size", m.batch_size},
                            {"pca_dim", m.pca_dim}, {"load_balance", m.load_balance},
                            {"entropy_weight", m.entropy_weight}, {"standardize", m.standardize},
                            {"preset", m.preset}, {"format", kFormat}};
                t.id = job_id(t.config);
                p.trains.push_back(t);
              }
}

void add_analyses(const sweep::Sweep& s, Plan& p) {
  const auto& a = s.analysis;
  for (const auto& t : p.trains)
    for (auto S : s.moe.strata) {
      AnalysisJob j;
      j.train_id = t.id;
      j.embedding = t.embedding;
      j.strata = S;
      j.config = {{"train", t.id}, {"strata", S}, {"strata_on", a.strata_on}, {"pca_dim", a.pca_dim},
                  {"kmeans_restarts", a.kmeans_restarts}, {"variance_fraction", a.variance_fraction},
                  {"mle_k", a.mle_k}, {"bootstrap", a.bootstrap}, {"seed", s.seed}, {"format", kFormat}};
      j.id = job_id(j.config);
      p.analyses.push_back(j);
    }
}

}  // namespace

std::int64_t embed_shard_count(const sweep::Sweep& s) {
  constexpr std::int64_t kMostAutomatic = 64;  // every shard tokenises the whole corpus
  if (s.cluster.embed_shards > 0) return s.cluster.embed_shards;
  // A table, or every row of the sources, has no size the sweep states: one shard.
  const auto& c = s.corpus;
  if (c.table || c.samples_per_source == 0 || c.sources.empty()) return 1;
  const double rows = static_cast<double>(c.samples_per_source) * static_cast<double>(c.sources.size());
  const double shards = std::ceil(rows / static_cast<double>(s.cluster.embed_shard_rows));
  return static_cast<std::int64_t>(std::clamp(shards, 1.0, static_cast<double>(kMostAutomatic)));
}

std::string shard_object(const std::string& name, std::int64_t index) {
  return fmt::format("/embedding_shards/{}/{}", name, index);
}

std::string job_id(const nlohmann::json& canonical) { return sha256_hex(canonical.dump()).substr(0, 16); }

const TrainJob& Plan::train(const std::string& id) const {
  for (const auto& t : trains)
    if (t.id == id) return t;
  fail_run("no train job {}", id);
}

const EmbedJob& Plan::embed(const std::string& name) const {
  for (const auto& e : embeds)
    if (e.name == name) return e;
  fail_run("no embedding {}", name);
}

Plan make_plan(const sweep::Sweep& s) {
  Plan p;
  p.corpus_config = corpus_config(s);
  p.corpus_id = job_id(p.corpus_config);
  add_embeds(s, p);
  add_trains(s, p);
  add_analyses(s, p);
  return p;
}

std::string describe(const Plan& p, const sweep::Sweep& s) {
  std::string out = fmt::format("sweep {} ({}): archive {}\n", s.name, s.file.string(), s.archive.string());
  if (s.corpus.synthetic) {
    std::int64_t n = 0;
    for (const auto& st : s.corpus.synthetic->strata) n += st.points;
    out += fmt::format("corpus {}: synthetic, {} strata, {} points in R^{}\n", p.corpus_id,
                       s.corpus.synthetic->strata.size(), n, s.corpus.synthetic->ambient_dim);
  } else if (s.corpus.table) {
    out += fmt::format("corpus {}: table {}\n", p.corpus_id, s.corpus.table->string());
  } else {
    out += fmt::format("corpus {}: {} sources, {} per source ({})\n", p.corpus_id, s.corpus.sources.size(),
                       s.corpus.samples_per_source == 0 ? std::string("all") : std::to_string(s.corpus.samples_per_source),
                       s.corpus.sampling);
    for (const auto& src : s.corpus.sources)
      out += fmt::format("  source {:<18} {:<20} {}\n", src.name, src.format, src.path.string());
  }
  out += fmt::format("embed jobs: {}\n", p.embeds.size());
  for (const auto& e : p.embeds) {
    std::string what = e.kind == EmbedKind::synthetic ? "synthetic points"
                       : e.kind == EmbedKind::import  ? "import " + e.model.import_path.string()
                       : e.kind == EmbedKind::null_model ? "Gaussian null of " + e.null_of
                       : fmt::format("{} pooling={} dtype={}", e.model.path.string(), e.model.pooling, e.model.dtype);
    if (!e.shards.empty()) what += fmt::format(", {} shards merged", e.shards.size());
    out += fmt::format("  {} {:<20} {}\n", e.id, e.name, what);
    for (const auto& sh : e.shards)
      out += fmt::format("    {} shard {}/{} {}\n", sh.id, sh.index + 1, e.shards.size(), shard_object(e.name, sh.index));
  }
  out += fmt::format("train jobs: {}\n", p.trains.size());
  for (const auto& t : p.trains) {
    const auto& c = t.config;
    const auto set = c["sparsity"].get<std::vector<std::int64_t>>();
    out += fmt::format("  {} {:<20} preset={} experts={} atoms={} sparsity=[{}] K={} gate={} lr={} seed={} epochs={}\n",
                       t.id, t.embedding, c["preset"].get<std::string>(), set.size(), c["atoms"].get<std::int64_t>(),
                       fmt::join(set, ","), c["lista_steps"].get<std::int64_t>(), c["gate"].get<std::string>(),
                       c["lr"].get<double>(), c["seed"].get<std::int64_t>(), c["epochs"].get<std::int64_t>());
  }
  out += fmt::format("analysis runs: {}\n", p.analyses.size());
  for (const auto& a : p.analyses)
    out += fmt::format("  {} train {} strata={} on {}\n", a.id, a.train_id, a.strata, s.analysis.strata_on);
  return out;
}

}  // namespace strata::plan

#include "orchestrator/plan.h"

#include <algorithm>
#include <cmath>

#include <fmt/ranges.h>

#include "core/io/fingerprint.h"
#include "core/nn/encoder.h"
#include "core/util/error.h"
#include "core/util/hash.h"

namespace strata::plan {

namespace {

// An input's fingerprint, or "absent" (and a flag) when it is not there: `strata plan` lists a
// sweep whose inputs are elsewhere; `strata run` checks every input exists before it plans.
template <typename F>
std::string fingerprint_or_absent(F&& compute, bool* missing) {
  try {
    return compute();
  } catch (const InputError&) {
    if (missing) *missing = true;
    return "absent";
  }
}

// The id of a job of `kind` reading `inputs` (their ids): its spec's result-changing fields.
template <typename S>
std::string spec_id(const char* kind, const nlohmann::json& inputs, const S& spec) {
  return job_id({{"job", kind}, {"format", kFormat}, {"inputs", inputs}, {"spec", spec::id_json(spec)}});
}

// A job's stored configuration: every field of its spec, and what it reads.
nlohmann::json stored(nlohmann::json spec, const nlohmann::json& extra) {
  spec.update(extra);
  spec["format"] = kFormat;
  return spec;
}

void add_shards(EmbedJob& e, std::int64_t shards) {
  if (e.spec.kind != "text_model" || shards < 2) return;
  for (std::int64_t k = 0; k < shards; ++k) {
    EmbedShard sh;
    sh.index = k;
    sh.config = e.config;
    sh.config["embed"] = e.id;
    sh.config["shard"] = k;
    sh.config["shards"] = shards;
    // A shard is a run of whole batches of the embedding: which run is all it adds.
    sh.id = job_id({{"job", "embed_shard"}, {"embed", e.id}, {"shard", k}, {"shards", shards}});
    e.shards.push_back(sh);
  }
}

EmbedJob made_here(nn::EmbedSpec spec, const std::string& corpus_id, nlohmann::json inputs) {
  EmbedJob e;
  e.name = spec.name;
  e.spec = std::move(spec);
  inputs["corpus"] = corpus_id;
  e.id = spec_id("embed", inputs, e.spec);
  e.config = stored(spec::to_json(e.spec), inputs);
  return e;
}

// The layers a model's embeddings are made of; as given when its config cannot be read (the plan
// is then provisional).
std::vector<std::int64_t> planned_layers(const nn::EmbedSpec& m, bool* missing) {
  try {
    return m.layers.resolve(nn::snapshot_layers(m.path));
  } catch (const InputError&) {
    if (missing) *missing = true;
    return m.layers.all || m.layers.indices.empty() ? std::vector<std::int64_t>{-1} : m.layers.indices;
  }
}

// Layer k of a model of several layers, as an embedding of its own.
EmbedJob layer_job(const EmbedJob& model, std::int64_t k, const std::string& corpus_id) {
  nn::EmbedSpec spec = model.spec;
  spec.name = fmt::format("{}@L{}", model.name, k);
  spec.kind = "layer_of";
  spec.layer = k;
  spec.shards = 1;
  auto e = made_here(spec, corpus_id, {{"layers", model.id}});
  e.layers_of = model.name;
  return e;
}

void add_embeds(const sweep::Sweep& s, Plan& p) {
  if (s.corpus.synthetic) {
    nn::EmbedSpec syn;
    syn.name = "synthetic";
    syn.kind = "synthetic";
    syn.synthetic = p.corpus.synthetic;
    p.embeds.push_back(made_here(syn, p.corpus_id, nlohmann::json::object()));
  }
  const std::int64_t shards = embed_shard_count(s);
  for (auto m : s.models) {
    if (m.pooling == "tokens") m.seed = s.experiment.seed;  // which tokens are kept
    auto e = embed_job(m, p.corpus_id, &p.inputs_missing);
    add_shards(e, shards);
    if (m.layers.last_only() || e.spec.is_import()) {
      p.embeds.push_back(e);
      continue;
    }
    e.holds_layers = true;
    p.embeds.push_back(e);
    for (std::int64_t k : planned_layers(m, &p.inputs_missing)) p.embeds.push_back(layer_job(e, k, p.corpus_id));
  }
  if (!s.analysis.base.null_model) return;
  const std::size_t real = p.embeds.size();
  for (std::size_t i = 0; i < real; ++i) {
    if (p.embeds[i].holds_layers) continue;
    nn::EmbedSpec null;
    null.name = p.embeds[i].name + ".null";
    null.kind = "null_model";
    null.seed = s.experiment.seed;
    auto e = made_here(null, p.corpus_id, {{"source", p.embeds[i].id}});
    e.null_of = p.embeds[i].name;
    p.embeds.push_back(e);
  }
}

void add_trains(const sweep::Sweep& s, Plan& p) {
  const auto grid = s.moe.expand();
  for (const auto& e : p.embeds) {
    if (e.holds_layers) continue;  // its layers are the embeddings
    for (const auto& cfg : grid) {
      const nlohmann::json inputs{{"embed", e.id}};
      p.trains.push_back({spec_id("train", inputs, cfg), e.name, e.id, cfg,
                          stored(spec::to_json(cfg), {{"embed", e.id}, {"embedding", e.name}})});
    }
  }
}

// The id of the strata of analysis `a` in the embedding `embed_id`.
std::string strata_id(const std::string& embed_id, const analysis::AnalysisSpec& a) {
  return spec_id("strata", {{"embed", embed_id}}, a);
}

// Strata found in the embedding itself do not depend on any trained model: one job per
// embedding and grid point instead of one per run.
void add_strata(const sweep::Sweep& s, Plan& p) {
  for (const auto& e : p.embeds)
    for (const auto& a : s.analysis.expand()) {
      if (a.strata_on != "embeddings" || e.holds_layers) continue;
      const auto id = strata_id(e.id, a);
      if (std::any_of(p.strata.begin(), p.strata.end(), [&](const StrataJob& j) { return j.id == id; })) continue;
      p.strata.push_back({id, e.name, e.id, a, stored(spec::to_json(a), {{"embed", e.id}, {"embedding", e.name}}),
                          e.spec.has_truth()});
    }
}

// A run's settings are its trained model's and its own (its own win where names meet). Its id
// names its strata job's, so what changes the strata changes the run.
void add_analyses(const sweep::Sweep& s, Plan& p) {
  const auto grid = s.analysis.expand();
  for (const auto& t : p.trains)
    for (const auto& a : grid) {
      const std::string strata = a.strata_on == "embeddings" ? p.strata_job(strata_id(t.embed_id, a)).id : "";
      nlohmann::json inputs{{"train", t.id}};
      if (!strata.empty()) inputs["strata_job"] = strata;  // "strata" is the stratum count
      auto config = t.config;
      config.update(stored(spec::to_json(a), inputs));
      p.analyses.push_back({spec_id("analysis", inputs, a), t.id, t.embedding, strata, a, std::move(config)});
    }
}

// Whether two embeddings have the same rows: per text, or per token of the same model and draw.
bool same_rows(const EmbedJob& a, const EmbedJob& b) {
  const auto tokens = [](const EmbedJob& e) { return e.spec.pooling == "tokens" && e.spec.kind != "import"; };
  if (tokens(a) || tokens(b))
    return tokens(a) && tokens(b) && a.spec.fingerprint == b.spec.fingerprint && a.spec.max_tokens == b.spec.max_tokens &&
           a.spec.tokens_per_text == b.spec.tokens_per_text && a.spec.token_rows == b.spec.token_rows;
  return true;
}

void add_geometry(const sweep::Sweep& s, Plan& p) {
  if (!s.geometry.on) return;
  for (const auto& e : p.embeds) {
    if (e.holds_layers) continue;
    GeometryJob g{"", e.name, e.id, s.geometry, {}, e.spec.has_truth(), {}};
    nlohmann::json compared = nlohmann::json::array();
    for (const auto& o : p.embeds)
      if (&o != &e && !o.holds_layers && o.null_of.empty() && e.null_of.empty() && same_rows(e, o)) {
        g.compare.push_back(o.name);
        compared.push_back(o.id);
      }
    const nlohmann::json inputs{{"embed", e.id}, {"compare", compared}};
    g.id = spec_id("geometry", inputs, s.geometry);
    g.config = stored(spec::to_json(s.geometry), {{"embed", e.id}, {"embedding", e.name}, {"compare", compared}});
    p.geometry.push_back(std::move(g));
  }
}

}  // namespace

CorpusJob corpus_job(CorpusSpec spec) {
  CorpusJob c;
  spec = canonical(std::move(spec));
  spec.fingerprint = fingerprint_or_absent([&] { return content_fingerprint(spec); }, &c.inputs_missing);
  c.spec = std::move(spec);
  c.id = spec_id("corpus", nlohmann::json::object(), c.spec);
  c.config = stored(spec::to_json(c.spec), nlohmann::json::object());
  return c;
}

EmbedJob embed_job(nn::EmbedSpec spec, const std::string& corpus_id, bool* inputs_missing) {
  spec.kind = spec.is_import() ? "import" : "text_model";
  spec.fingerprint = fingerprint_or_absent(
      [&] { return spec.is_import() ? io::file_digest(spec.import_path) : nn::snapshot_fingerprint(spec.path); },
      inputs_missing);
  return made_here(std::move(spec), corpus_id, nlohmann::json::object());
}

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

const StrataJob& Plan::strata_job(const std::string& id) const {
  for (const auto& j : strata)
    if (j.id == id) return j;
  fail_run("no strata job {}", id);
}

const EmbedJob& Plan::embed(const std::string& name) const {
  for (const auto& e : embeds)
    if (e.name == name) return e;
  fail_run("no embedding {}", name);
}

Plan make_plan(const sweep::Sweep& s) {
  Plan p;
  auto c = corpus_job(s.corpus);
  p.corpus = std::move(c.spec);
  p.corpus_id = c.id;
  p.corpus_config = std::move(c.config);
  p.inputs_missing = c.inputs_missing;
  add_embeds(s, p);
  add_trains(s, p);
  add_strata(s, p);
  add_analyses(s, p);
  add_geometry(s, p);
  return p;
}

std::string describe(const Plan& p, const sweep::Sweep& s) {
  std::string out = fmt::format("sweep {} ({}): archive {}\n", s.experiment.name, s.file.string(), s.experiment.archive.string());
  if (p.inputs_missing) out += "some inputs are missing: the ids of the jobs that read them are provisional\n";
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
    const auto& m = e.spec;
    std::string what = m.kind == "synthetic"    ? "synthetic points"
                       : m.kind == "import"     ? "import " + m.import_path.string()
                       : m.kind == "null_model" ? "Gaussian null of " + e.null_of
                       : m.kind == "layer_of"   ? fmt::format("hidden state {} of {}", m.layer, e.layers_of)
                       : fmt::format("{} pooling={} dtype={}", m.path.string(), m.pooling, m.dtype);
    if (!e.shards.empty()) what += fmt::format(", {} shards merged", e.shards.size());
    if (e.holds_layers) what += fmt::format(", layers {} in {}", spec::to_json(m)["layers"].dump(), e.object());
    out += fmt::format("  {} {:<20} {}\n", e.id, e.name, what);
    for (const auto& sh : e.shards)
      out += fmt::format("    {} shard {}/{} {}\n", sh.id, sh.index + 1, e.shards.size(), shard_object(e.name, sh.index));
  }
  out += fmt::format("train jobs: {}\n", p.trains.size());
  for (const auto& t : p.trains) {
    const auto& c = t.spec;
    out += fmt::format("  {} {:<20} preset={} experts={} atoms={} sparsity=[{}] K={} gate={} lr={} seed={} epochs={}{}\n",
                       t.id, t.embedding, c.preset, c.sparsity.size(), c.atoms, fmt::join(c.sparsity, ","), c.lista_steps,
                       c.gate, c.lr, c.seed, c.epochs,
                       c.sparsity_cost != 0 ? fmt::format(" sparsity_cost={}", c.sparsity_cost) : std::string());
  }
  out += fmt::format("strata jobs: {}\n", p.strata.size());
  for (const auto& j : p.strata) out += fmt::format("  {} {:<20} strata={}\n", j.id, j.embedding, j.spec.strata);
  out += fmt::format("analysis runs: {}\n", p.analyses.size());
  for (const auto& a : p.analyses)
    out += fmt::format("  {} train {} strata={} on {}{}\n", a.id, a.train_id, a.spec.strata, a.spec.strata_on,
                       a.strata_id.empty() ? std::string() : " (strata job " + a.strata_id + ")");
  if (!p.geometry.empty()) out += fmt::format("geometry jobs: {}\n", p.geometry.size());
  for (const auto& g : p.geometry) out += fmt::format("  {} /geometry/{}\n", g.id, g.embedding);
  return out;
}

}  // namespace strata::plan

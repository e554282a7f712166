#include "orchestrator/job_graph.h"

#include <fmt/ranges.h>

namespace strata {

namespace {

double rows(const sweep::Sweep& s) {
  if (s.corpus.synthetic) {
    double n = 0;
    for (const auto& st : s.corpus.synthetic->strata) n += static_cast<double>(st.points);
    return n;
  }
  return static_cast<double>(std::max<std::int64_t>(s.corpus.samples_per_source, 1)) *
         static_cast<double>(std::max<std::size_t>(s.corpus.sources.size(), 1));
}

// Text models dominate a sweep's cost: the encoder's work grows with the tokens, estimated
// before the corpus exists as rows x max_tokens. Imports and synthetic points are cheap.
double embed_cost(const plan::EmbedJob& e, double rows) {
  return e.spec.kind == "text_model" ? rows * static_cast<double>(e.spec.max_tokens) : rows;
}

// A worker keeps the model it last embedded with loaded (workers/embed_job.cpp): jobs of one
// model prefer the rank that holds it.
std::string model_affinity(const plan::EmbedJob& e) {
  if (e.spec.kind != "text_model") return "";
  return "model:" + e.spec.path.string() + ":" + e.spec.dtype;
}

// One job per embedding, or for a sharded text model its shards (token-balanced, so each
// costs an equal part) and the job that merges them into the embedding.
void add_embed(const plan::Plan& p, const plan::EmbedJob& e, double rows, std::vector<JobNode>& nodes) {
  const std::string object = e.object();
  nn::EmbedSpec spec = e.spec;
  JobNode j;
  j.config = e.config;
  j.what = e.holds_layers ? "a model's layers" : "embeddings";
  j.label = fmt::format("{} {}", e.holds_layers ? "layers of" : "embeddings", e.name);
  j.replace_on_change = true;
  if (spec.kind == "layer_of") {
    // Its rows are its model's: linked, not copied.
    const std::string layers = p.embed(e.layers_of).object();
    j.request = {object, e.id, "embed", spec::to_json(spec), {{"corpus", "/corpus"}, {"layers", layers}}, rows / 100, ""};
    j.links["data"] = fmt::format("{}/L{}", layers, spec.layer);
    if (spec.pooling == "tokens")
      for (const char* meta : {"text_row", "position", "token_id"}) j.links[meta] = layers + "/" + meta;
    nodes.push_back(j);
    return;
  }
  if (e.shards.empty()) {
    std::vector<workers::JobInput> inputs{{"corpus", "/corpus"}};
    if (spec.kind == "null_model") inputs.push_back({"source", "/embeddings/" + e.null_of});
    j.request = {object, e.id, "embed", spec::to_json(spec), inputs, embed_cost(e, rows), model_affinity(e)};
    nodes.push_back(j);
    return;
  }
  const auto count = static_cast<std::int64_t>(e.shards.size());
  std::vector<workers::JobInput> merge_inputs{{"corpus", "/corpus"}};
  for (const auto& sh : e.shards) {
    JobNode part;
    spec.shard = sh.index;
    spec.shards = count;
    part.request = {plan::shard_object(e.name, sh.index), sh.id, "embed", spec::to_json(spec), {{"corpus", "/corpus"}},
                    embed_cost(e, rows) / static_cast<double>(count), model_affinity(e)};
    part.config = sh.config;
    part.what = "an embedding shard";
    part.label = fmt::format("embeddings {} shard {}/{}", e.name, sh.index + 1, count);
    part.intermediate = true;
    merge_inputs.push_back({"shard", part.request.object});
    nodes.push_back(part);
  }
  nn::EmbedSpec merge = e.spec;
  merge.kind = "merge_shards";
  merge.shards = count;
  j.label = fmt::format("{} {} ({} shards merged)", e.holds_layers ? "layers of" : "embeddings", e.name, count);
  j.request = {object, e.id, "embed", spec::to_json(merge), merge_inputs, rows, ""};
  nodes.push_back(j);
}

// What each result is made from, by job id, so that a reader can tell a result whose input
// was computed again since (e.g. a replaced embedding) from a current one.
void record_inputs(std::vector<JobNode>& nodes) {
  std::map<std::string, const JobNode*> by_object;
  for (const auto& n : nodes) by_object[n.request.object] = &n;
  for (auto& n : nodes) {
    auto inputs = nlohmann::json::object();
    for (const auto& in : n.request.inputs) {
      const auto it = by_object.find(in.object);
      if (it != by_object.end() && !it->second->intermediate) inputs[in.object] = it->second->request.id;
    }
    n.attrs["input_jobs"] = inputs.dump();
  }
}

// Strata, dimensions and their intervals: what cost an analysis most, now once per embedding.
JobNode strata_node(const plan::StrataJob& st, double rows) {
  JobNode j;
  const auto& spec = st.spec;
  j.request = {"/strata/" + st.id, st.id, "strata", spec::to_json(spec),
               {{"corpus", "/corpus"}, {"embedding", "/embeddings/" + st.embedding}},
               rows * static_cast<double>(1 + spec.bootstrap), ""};
  j.config = st.config;
  j.what = "strata";
  j.label = fmt::format("strata {} ({} of {})", st.id, spec.strata, st.embedding);
  j.attrs = {{"embedding", st.embedding}};
  return j;
}

// A run: its trained model's and (strata on the embeddings) its strata job's results appear in
// it as soft links, so that a run reads as a whole.
JobNode run_node(const plan::Plan& p, const plan::AnalysisJob& a, double rows) {
  JobNode j;
  const std::string trained = "/trained/" + a.train_id;
  const auto& aj = a.spec;
  j.request = {"/runs/" + a.id, a.id, "analysis", spec::to_json(aj),
               {{"corpus", "/corpus"}, {"embedding", "/embeddings/" + a.embedding}, {"trained", trained}},
               rows * static_cast<double>(a.strata_id.empty() ? 1 + aj.bootstrap : 1), ""};
  j.config = a.config;
  j.what = "a run";
  j.label = fmt::format("analysis {} ({} strata of {})", a.id, aj.strata, a.embedding);
  j.links = {{"params", trained + "/params"},         {"train", trained + "/train"},
             {"out/gating", trained + "/out/gating"}, {"out/recon_error", trained + "/out/recon_error"},
             {"out/support", trained + "/out/support"}, {"trained", trained}};
  if (!a.strata_id.empty()) {
    const std::string strata = "/strata/" + a.strata_id;
    j.request.inputs.push_back({"strata", strata});
    for (const auto& path : workers::strata_paths(aj, p.strata_job(a.strata_id).truth))
      j.links[path] = strata + "/" + path;
  }
  j.attrs = {{"train_id", a.train_id}, {"embedding", a.embedding}};
  return j;
}

// An embedding's geometry: neighbour statistics of at most max_points of its rows.
JobNode geometry_node(const plan::GeometryJob& g, double rows) {
  JobNode j;
  const double points = std::min(rows, static_cast<double>(g.spec.max_points));
  j.request = {"/geometry/" + g.embedding, g.id, "geometry", spec::to_json(g.spec),
               {{"corpus", "/corpus"}, {"embedding", "/embeddings/" + g.embedding}}, points * points / 100, ""};
  for (const auto& other : g.compare) j.request.inputs.push_back({"compare", "/embeddings/" + other});
  j.config = g.config;
  j.what = "an embedding's geometry";
  j.label = "geometry of " + g.embedding;
  j.attrs = {{"embedding", g.embedding}};
  j.replace_on_change = true;
  return j;
}

}  // namespace

std::vector<JobNode> job_graph(const sweep::Sweep& s, const plan::Plan& p) {
  std::vector<JobNode> nodes;
  const double n = rows(s);
  {
    JobNode c;
    c.request = {"/corpus", p.corpus_id, "corpus", spec::to_json(p.corpus), {}, n, ""};
    c.config = p.corpus_config;
    c.what = "a corpus";
    c.label = "corpus";
    nodes.push_back(c);
  }
  for (const auto& e : p.embeds) add_embed(p, e, n, nodes);
  for (const auto& t : p.trains) {
    JobNode j;
    const auto& tj = t.spec;
    const double cost = n * static_cast<double>(tj.epochs * tj.atoms) * static_cast<double>(tj.sparsity.size());
    j.request = {"/trained/" + t.id, t.id, "train", spec::to_json(tj),
                 {{"corpus", "/corpus"}, {"embedding", "/embeddings/" + t.embedding}}, cost, ""};
    j.request.ranks = static_cast<int>(s.cluster.ranks_per_train_job);  // where it runs, not part of its id
    j.config = t.config;
    j.what = "a trained model";
    j.label = fmt::format("train {} on {} (experts={} atoms={} sparsity=[{}] seed={})", t.id, t.embedding,
                          tj.sparsity.size(), tj.atoms, fmt::join(tj.sparsity, ","), tj.seed);
    j.attrs["embedding"] = t.embedding;
    nodes.push_back(j);
  }
  for (const auto& st : p.strata) nodes.push_back(strata_node(st, n));
  for (const auto& a : p.analyses) nodes.push_back(run_node(p, a, n));
  for (const auto& g : p.geometry) nodes.push_back(geometry_node(g, n));
  record_inputs(nodes);
  return nodes;
}

}  // namespace strata

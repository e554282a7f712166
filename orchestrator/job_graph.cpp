#include "orchestrator/job_graph.h"

#include <fmt/ranges.h>

namespace strata {

namespace {

workers::CorpusJob corpus_job(const sweep::Sweep& s) {
  workers::CorpusJob j;
  for (const auto& src : s.corpus.sources)
    j.sources.push_back({src.name, src.format, src.split, src.text_field, src.label_field, src.id_field,
                         src.source_column, src.path, src.text_fields});
  j.per_source = s.corpus.samples_per_source;
  j.sampling = s.corpus.sampling;
  j.balance_labels = s.corpus.balance_labels;
  j.min_chars = s.corpus.min_chars;
  j.max_chars = s.corpus.max_chars;
  j.seed = s.seed;
  j.table = s.corpus.table;
  j.synthetic = s.corpus.synthetic;
  return j;
}

workers::EmbedJob embed_job(const sweep::Sweep& s, const plan::EmbedJob& e) {
  workers::EmbedJob j;
  switch (e.kind) {
    case plan::EmbedKind::text_model: j.kind = "text_model"; break;
    case plan::EmbedKind::import: j.kind = "import"; break;
    case plan::EmbedKind::synthetic: j.kind = "synthetic"; break;
    case plan::EmbedKind::null_model: j.kind = "null_model"; break;
  }
  j.model_path = e.model.path;
  j.import_path = e.model.import_path;
  j.import_dataset = e.model.import_dataset;
  j.pooling = e.model.pooling;
  j.dtype = e.model.dtype;
  j.max_tokens = e.model.max_tokens;
  j.batch_size = e.model.batch_size;
  j.batch_tokens = e.model.batch_tokens;
  j.normalize = e.model.normalize;
  j.synthetic = s.corpus.synthetic;
  j.seed = s.seed;
  return j;
}

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
  return e.kind == plan::EmbedKind::text_model ? rows * static_cast<double>(e.model.max_tokens) : rows;
}

// A worker keeps the model it last embedded with loaded (workers/embed_job.cpp): jobs of one
// model prefer the rank that holds it.
std::string model_affinity(const plan::EmbedJob& e) {
  if (e.kind != plan::EmbedKind::text_model) return "";
  return "model:" + e.model.path.string() + ":" + e.model.dtype;
}

// One job per embedding, or for a sharded text model its shards (token-balanced, so each
// costs an equal part) and the job that merges them into the embedding.
void add_embed(const sweep::Sweep& s, const plan::EmbedJob& e, double rows, std::vector<JobNode>& nodes) {
  const std::string object = "/embeddings/" + e.name;
  workers::EmbedJob spec = embed_job(s, e);
  JobNode j;
  j.config = e.config;
  j.what = "embeddings";
  j.label = "embeddings " + e.name;
  if (e.shards.empty()) {
    std::vector<std::string> inputs{"/corpus"};
    if (e.kind == plan::EmbedKind::null_model) inputs.push_back("/embeddings/" + e.null_of);
    j.request = {object, e.id, "embed", workers::to_json(spec), inputs, embed_cost(e, rows), model_affinity(e)};
    nodes.push_back(j);
    return;
  }
  const auto count = static_cast<std::int64_t>(e.shards.size());
  std::vector<std::string> merge_inputs{"/corpus"};
  for (const auto& sh : e.shards) {
    JobNode part;
    spec.shard = sh.index;
    spec.shards = count;
    part.request = {plan::shard_object(e.name, sh.index), sh.id, "embed", workers::to_json(spec), {"/corpus"},
                    embed_cost(e, rows) / static_cast<double>(count), model_affinity(e)};
    part.config = sh.config;
    part.what = "an embedding shard";
    part.label = fmt::format("embeddings {} shard {}/{}", e.name, sh.index + 1, count);
    part.intermediate = true;
    merge_inputs.push_back(part.request.object);
    nodes.push_back(part);
  }
  workers::EmbedJob merge;
  merge.kind = "merge_shards";
  j.label = fmt::format("embeddings {} ({} shards merged)", e.name, count);
  j.request = {object, e.id, "embed", workers::to_json(merge), merge_inputs, rows, ""};
  nodes.push_back(j);
}

}  // namespace

std::vector<JobNode> job_graph(const sweep::Sweep& s, const plan::Plan& p) {
  std::vector<JobNode> nodes;
  const double n = rows(s);
  {
    JobNode c;
    c.request = {"/corpus", p.corpus_id, "corpus", workers::to_json(corpus_job(s)), {}, n, ""};
    c.config = p.corpus_config;
    c.what = "a corpus";
    c.label = "corpus";
    nodes.push_back(c);
  }
  for (const auto& e : p.embeds) add_embed(s, e, n, nodes);
  for (const auto& t : p.trains) {
    JobNode j;
    workers::TrainJob tj = workers::train_job_from_json(t.config);
    const double cost = n * static_cast<double>(tj.epochs * tj.atoms) * static_cast<double>(tj.sparsity.size());
    j.request = {"/trained/" + t.id, t.id, "train", workers::to_json(tj), {"/corpus", "/embeddings/" + t.embedding}, cost, ""};
    j.request.ranks = static_cast<int>(s.cluster.ranks_per_train_job);  // where it runs, not part of its id
    j.config = t.config;
    j.what = "a trained model";
    j.label = fmt::format("train {} on {} (experts={} atoms={} sparsity=[{}] seed={})", t.id, t.embedding,
                          tj.sparsity.size(), tj.atoms, fmt::join(tj.sparsity, ","), tj.seed);
    j.attrs["embedding"] = t.embedding;
    nodes.push_back(j);
  }
  for (const auto& a : p.analyses) {
    JobNode j;
    const std::string trained = "/trained/" + a.train_id;
    workers::AnalysisJob aj;
    aj.strata = a.strata;
    aj.strata_on = a.config["strata_on"];
    aj.pca_dim = a.config["pca_dim"];
    aj.kmeans_restarts = a.config["kmeans_restarts"];
    aj.variance_fraction = a.config["variance_fraction"];
    aj.mle_k = a.config["mle_k"];
    aj.bootstrap = a.config["bootstrap"];
    aj.seed = a.config["seed"];
    j.request = {"/runs/" + a.id, a.id, "analysis", workers::to_json(aj),
                 {"/corpus", "/embeddings/" + a.embedding, trained}, n * static_cast<double>(1 + aj.bootstrap), ""};
    j.config = p.train(a.train_id).config;
    j.config.update(a.config);
    j.what = "a run";
    j.label = fmt::format("analysis {} ({} strata of {})", a.id, a.strata, a.embedding);
    j.links = {{"params", trained + "/params"},         {"train", trained + "/train"},
               {"out/gating", trained + "/out/gating"}, {"out/recon_error", trained + "/out/recon_error"},
               {"out/support", trained + "/out/support"}, {"trained", trained}};
    j.attrs = {{"train_id", a.train_id}, {"embedding", a.embedding}};
    nodes.push_back(j);
  }
  return nodes;
}

}  // namespace strata

#pragma once
// The expanded sweep: every job with its spec and deterministic id. A job's id is a hash of
// the fields of its spec that change its result (spec::id_json: inputs by content, never by
// path) and of the ids of the jobs it reads, so equal ids mean equal work.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/sweep.h"

namespace strata::plan {

// Bumped when a job's meaning or its id's recipe changes, so stale archives are refused.
inline constexpr int kFormat = 2;

// One part of a text model's embedding (see core/nn/embed_shards.h), in the archive at
// /embedding_shards/<name>/<index>.
struct EmbedShard {
  std::string id;
  std::int64_t index = 0;
  nlohmann::json config;  // stored with it: the embedding's configuration with shard and shards
};

struct EmbedJob {
  std::string id, name;  // name: the embedding's name in the archive (/embeddings/<name>)
  nn::EmbedSpec spec;
  std::string null_of;     // a null model: the embedding it mirrors
  nlohmann::json config;   // stored with the result: every field of the spec and the input ids
  // A text model in more than one shard: the shards computed apart and merged into this
  // embedding. The embedding's id does not depend on them: sharded or not, it is the same
  // data, bit for bit.
  std::vector<EmbedShard> shards;
  // A text model of several layers (layers != [-1]): this job's object holds every layer
  // (/embedding_layers/<name>, from one forward pass) and is no embedding itself; a layer_of job
  // per layer makes /embeddings/<name>@L<k> of it, `layers_of` naming the model.
  bool holds_layers = false;
  std::string layers_of;
  std::string object() const { return (holds_layers ? "/embedding_layers/" : "/embeddings/") + name; }
};

struct TrainJob {
  std::string id, embedding, embed_id;
  moe::MoeConfig spec;
  nlohmann::json config;
};

// What an analysis finds in an embedding alone (strata_on = "embeddings"): its strata, their
// dimensions and their agreement with the sources, the same for every model trained on it. One
// per embedding and analysis grid point, read by every run of that grid point; in the archive at
// /strata/<id>.
struct StrataJob {
  std::string id, embedding, embed_id;
  analysis::AnalysisSpec spec;
  nlohmann::json config;
  bool truth = false;  // the embedding knows its true strata (a synthetic space)
};

// The geometry of one embedding alone (local and multiscale dimension, volume growth, where its
// groups meet): one per embedding when [geometry] on = true, in the archive at
// /geometry/<embedding>. Groups: the true strata of a synthetic space, else the sources.
struct GeometryJob {
  std::string id, embedding, embed_id;
  analysis::GeometrySpec spec;
  nlohmann::json config;
  bool truth = false;
  // Embeddings of the same rows its neighbourhoods are compared with: the other text models'
  // (and layers') of the same pooling kind, nulls aside.
  std::vector<std::string> compare;
};

struct AnalysisJob {
  std::string id, train_id, embedding;
  std::string strata_id;  // the StrataJob it reads; "" when its strata come from the gating
  analysis::AnalysisSpec spec;
  nlohmann::json config;  // the trained model's settings and the analysis's
};

struct Plan {
  std::string corpus_id;
  CorpusSpec corpus;  // with its content fingerprint
  nlohmann::json corpus_config;
  std::vector<EmbedJob> embeds;
  std::vector<TrainJob> trains;
  std::vector<StrataJob> strata;
  std::vector<AnalysisJob> analyses;
  std::vector<GeometryJob> geometry;
  bool inputs_missing = false;  // some input file is absent: its jobs' ids are provisional
  const TrainJob& train(const std::string& id) const;
  const EmbedJob& embed(const std::string& name) const;
  const StrataJob& strata_job(const std::string& id) const;
};

Plan make_plan(const sweep::Sweep& s);

// The corpus job of a spec, with its fingerprint computed: its id and stored configuration.
// `strata run` and `strata embed` both make their corpus ids here.
struct CorpusJob {
  CorpusSpec spec;
  std::string id;
  nlohmann::json config;
  bool inputs_missing = false;
};
CorpusJob corpus_job(CorpusSpec spec);
// A text model's or an import's embedding job on the corpus `corpus_id`, fingerprint computed.
EmbedJob embed_job(nn::EmbedSpec spec, const std::string& corpus_id, bool* inputs_missing = nullptr);

// The shard count of the sweep's text-model embeddings: [cluster] embed_shards, or when 0
// one per embed_shard_rows rows of the corpus the sweep asks for (at most 64). A function of
// the sweep alone, never of the ranks running it, so job ids stay the same on any cluster.
std::int64_t embed_shard_count(const sweep::Sweep& s);
// The archive object of shard `index` of embedding `name`.
std::string shard_object(const std::string& name, std::int64_t index);
std::string job_id(const nlohmann::json& canonical);  // 16 hex digits of SHA-256
// Human-readable listing for `strata plan`.
std::string describe(const Plan& p, const sweep::Sweep& s);

}  // namespace strata::plan

#pragma once
// The expanded sweep: every job with its deterministic id. A job's id is a hash of its
// canonical resolved configuration and the ids of its inputs, so equal ids mean equal work.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/sweep.h"

namespace strata::plan {

enum class EmbedKind { text_model, import, synthetic, null_model };

// One part of a text model's embedding (see core/nn/embed_shards.h), in the archive at
// /embedding_shards/<name>/<index>.
struct EmbedShard {
  std::string id;
  std::int64_t index = 0;
  nlohmann::json config;  // the embedding's configuration with shard, shards and batch_size
};

struct EmbedJob {
  std::string id, name;  // name: the embedding's name in the archive (/embeddings/<name>)
  EmbedKind kind;
  sweep::ModelSpec model;  // for text_model and import
  std::string null_of;     // for null_model: the embedding it mirrors
  nlohmann::json config;
  // A text model in more than one shard: the shards computed apart and merged into this
  // embedding. The embedding's id does not depend on them: sharded or not, it is the same
  // data, bit for bit.
  std::vector<EmbedShard> shards;
};

struct TrainJob {
  std::string id, embedding, embed_id;
  nlohmann::json config;  // the resolved MoE settings (see train_settings in workers/)
};

struct AnalysisJob {
  std::string id, train_id, embedding;
  std::int64_t strata;
  nlohmann::json config;
};

struct Plan {
  std::string corpus_id;
  nlohmann::json corpus_config;
  std::vector<EmbedJob> embeds;
  std::vector<TrainJob> trains;
  std::vector<AnalysisJob> analyses;
  const TrainJob& train(const std::string& id) const;
  const EmbedJob& embed(const std::string& name) const;
};

Plan make_plan(const sweep::Sweep& s);
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

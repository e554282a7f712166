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

struct EmbedJob {
  std::string id, name;  // name: the embedding's name in the archive (/embeddings/<name>)
  EmbedKind kind;
  sweep::ModelSpec model;  // for text_model and import
  std::string null_of;     // for null_model: the embedding it mirrors
  nlohmann::json config;
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
std::string job_id(const nlohmann::json& canonical);  // 16 hex digits of SHA-256
// Human-readable listing for `strata plan`.
std::string describe(const Plan& p, const sweep::Sweep& s);

}  // namespace strata::plan

#include "core/nn/model_config.h"

#include "core/util/error.h"
#include "core/util/json_access.h"
#include "core/util/json_file.h"

namespace strata::nn {

ModelConfig::ModelConfig(const std::filesystem::path& snapshot_dir) : path_(snapshot_dir / "config.json") {
  if (!std::filesystem::is_regular_file(path_))
    fail_input("{}: cannot open (is {} a model snapshot folder?)", path_.string(), snapshot_dir.string());
  json_ = read_json_file(path_);
  if (!json_.is_object()) fail_input("{}: not a JSON object", path_.string());
}

ModelConfig::ModelConfig(nlohmann::json json, std::filesystem::path path)
    : json_(std::move(json)), path_(std::move(path)) {}

bool ModelConfig::has(const std::string& key) const {
  return json_.contains(key) && !json_[key].is_null();
}

std::string ModelConfig::where(const std::string& key) const {
  return path_.string() + ": '" + key + "'";
}

// config.json's fields through the one JSON getter family: "<path>: 'key' should be ..., got ...".
std::int64_t ModelConfig::integer(const std::string& key) const { return get_int(json_, key.c_str(), path_.string()); }

std::int64_t ModelConfig::integer(const std::string& key, std::int64_t fallback) const {
  return get_optional_int(json_, key.c_str(), path_.string()).value_or(fallback);
}

double ModelConfig::number(const std::string& key, double fallback) const {
  return get_number(json_, key.c_str(), path_.string(), fallback);
}

bool ModelConfig::boolean(const std::string& key, bool fallback) const {
  return get_bool(json_, key.c_str(), path_.string(), fallback);
}

std::string ModelConfig::string(const std::string& key) const { return get_string(json_, key.c_str(), path_.string()); }

std::string ModelConfig::string(const std::string& key, const std::string& fallback) const {
  return get_optional_string(json_, key.c_str(), path_.string()).value_or(fallback);
}

}  // namespace strata::nn

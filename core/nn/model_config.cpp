#include "core/nn/model_config.h"

#include <fstream>

#include "core/util/error.h"
#include "core/util/json_nesting.h"

namespace strata::nn {

ModelConfig::ModelConfig(const std::filesystem::path& snapshot_dir) : path_(snapshot_dir / "config.json") {
  std::ifstream in(path_, std::ios::binary);
  if (!in) fail_input("{}: cannot open (is {} a model snapshot folder?)", path_.string(), snapshot_dir.string());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check_json_nesting(text, path_.string());
  try {
    json_ = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail_input("{}: not valid JSON ({})", path_.string(), e.what());
  }
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

std::int64_t ModelConfig::integer(const std::string& key) const {
  if (!has(key)) fail_input("{} is missing", where(key));
  const auto& v = json_[key];
  if (!v.is_number_integer()) fail_input("{} should be an integer, got {}", where(key), v.dump());
  return v.get<std::int64_t>();
}

std::int64_t ModelConfig::integer(const std::string& key, std::int64_t fallback) const {
  return has(key) ? integer(key) : fallback;
}

double ModelConfig::number(const std::string& key, double fallback) const {
  if (!has(key)) return fallback;
  const auto& v = json_[key];
  if (!v.is_number()) fail_input("{} should be a number, got {}", where(key), v.dump());
  return v.get<double>();
}

bool ModelConfig::boolean(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const auto& v = json_[key];
  if (!v.is_boolean()) fail_input("{} should be true or false, got {}", where(key), v.dump());
  return v.get<bool>();
}

std::string ModelConfig::string(const std::string& key) const {
  if (!has(key)) fail_input("{} is missing", where(key));
  const auto& v = json_[key];
  if (!v.is_string()) fail_input("{} should be a string, got {}", where(key), v.dump());
  return v.get<std::string>();
}

std::string ModelConfig::string(const std::string& key, const std::string& fallback) const {
  return has(key) ? string(key) : fallback;
}

}  // namespace strata::nn

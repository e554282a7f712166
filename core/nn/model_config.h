#pragma once
// config.json of a Hugging Face snapshot, read with typed accessors whose errors name the
// file and the key.
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace strata::nn {

class ModelConfig {
 public:
  // Reads <snapshot_dir>/config.json.
  explicit ModelConfig(const std::filesystem::path& snapshot_dir);
  ModelConfig(nlohmann::json json, std::filesystem::path path);

  const std::filesystem::path& path() const { return path_; }
  const nlohmann::json& json() const { return json_; }
  // A key counts as present when it is there and not null (save_pretrained writes nulls).
  bool has(const std::string& key) const;

  std::int64_t integer(const std::string& key) const;
  std::int64_t integer(const std::string& key, std::int64_t fallback) const;
  double number(const std::string& key, double fallback) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::string string(const std::string& key) const;
  std::string string(const std::string& key, const std::string& fallback) const;

  // "<path>: '<key>' ..." for messages about one key.
  std::string where(const std::string& key) const;

 private:
  nlohmann::json json_;
  std::filesystem::path path_;
};

}  // namespace strata::nn

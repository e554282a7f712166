#include "core/text/snapshot_config.h"

#include "core/util/error.h"

namespace strata::text {

std::optional<std::string> token_content(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) return j["content"].get<std::string>();
  return std::nullopt;
}

std::optional<std::string> configured_pad_token(const std::filesystem::path& dir,
                                                std::optional<std::filesystem::path>& read) {
  for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
    const auto file = dir / name;
    if (!std::filesystem::exists(file)) continue;
    const auto j = read_json_file(file);
    if (!j.is_object() || !j.contains("pad_token")) continue;
    if (auto token = token_content(j["pad_token"])) {
      read = file;
      return token;
    }
  }
  return std::nullopt;
}

}  // namespace strata::text

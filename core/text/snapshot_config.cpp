#include "core/text/snapshot_config.h"

#include <fstream>
#include <sstream>

#include "core/util/error.h"
#include "core/util/json_nesting.h"

namespace strata::text {

nlohmann::json read_json_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail_input("{}: cannot open the file", file.string());
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  check_json_nesting(text, file.string());
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail_input("{}: malformed JSON at byte {}: {}", file.string(), e.byte, e.what());
  } catch (const nlohmann::json::exception& e) {  // e.g. a number beyond any double
    fail_input("{}: malformed JSON: {}", file.string(), e.what());
  }
}

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

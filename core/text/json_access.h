#pragma once
// Typed access to tokenizer json fields with errors that name the file and the field,
// e.g. "tokenizer.json: model.unk_token: expected a string".
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace strata::text {

const nlohmann::json& require(const nlohmann::json& j, const char* key, const std::string& ctx);
const nlohmann::json& require_array(const nlohmann::json& j, const char* key, const std::string& ctx);
std::string get_string(const nlohmann::json& j, const char* key, const std::string& ctx);
// Absent or null fields give `fallback`.
std::optional<std::string> get_optional_string(const nlohmann::json& j, const char* key,
                                               const std::string& ctx);
bool get_bool(const nlohmann::json& j, const char* key, const std::string& ctx, bool fallback);
std::int64_t get_int(const nlohmann::json& j, const char* key, const std::string& ctx);
std::optional<std::int64_t> get_optional_int(const nlohmann::json& j, const char* key,
                                             const std::string& ctx);
// The "type" field of a component object.
std::string get_type(const nlohmann::json& j, const std::string& ctx);

}  // namespace strata::text

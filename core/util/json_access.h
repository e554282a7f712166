#pragma once
// Typed access to the fields of JSON strata does not control (a tokenizer.json, a snapshot's
// config.json), with errors that name the file, the place and what was found there, e.g.
// "tokenizer.json: model: 'unk_token' should be a string, got 5".
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace strata {

// `ctx` names where `j` is ("tokenizer.json: model"); absent and null fields are alike.
const nlohmann::json& require(const nlohmann::json& j, const char* key, const std::string& ctx);
const nlohmann::json& require_array(const nlohmann::json& j, const char* key, const std::string& ctx);
std::string get_string(const nlohmann::json& j, const char* key, const std::string& ctx);
std::optional<std::string> get_optional_string(const nlohmann::json& j, const char* key, const std::string& ctx);
bool get_bool(const nlohmann::json& j, const char* key, const std::string& ctx, bool fallback);
std::int64_t get_int(const nlohmann::json& j, const char* key, const std::string& ctx);
std::optional<std::int64_t> get_optional_int(const nlohmann::json& j, const char* key, const std::string& ctx);
double get_number(const nlohmann::json& j, const char* key, const std::string& ctx, double fallback);
// The "type" field of a component object.
std::string get_type(const nlohmann::json& j, const std::string& ctx);

}  // namespace strata

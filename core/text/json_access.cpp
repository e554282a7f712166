#include "core/text/json_access.h"

#include "core/util/error.h"

namespace strata::text {
namespace {

const nlohmann::json* find(const nlohmann::json& j, const char* key, const std::string& ctx) {
  if (!j.is_object()) fail_input("{}: expected an object", ctx);
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace

const nlohmann::json& require(const nlohmann::json& j, const char* key, const std::string& ctx) {
  const auto* v = find(j, key, ctx);
  if (v == nullptr) fail_input("{}.{}: missing", ctx, key);
  return *v;
}

const nlohmann::json& require_array(const nlohmann::json& j, const char* key, const std::string& ctx) {
  const auto& v = require(j, key, ctx);
  if (!v.is_array()) fail_input("{}.{}: expected an array", ctx, key);
  return v;
}

std::string get_string(const nlohmann::json& j, const char* key, const std::string& ctx) {
  const auto& v = require(j, key, ctx);
  if (!v.is_string()) fail_input("{}.{}: expected a string", ctx, key);
  return v.get<std::string>();
}

std::optional<std::string> get_optional_string(const nlohmann::json& j, const char* key,
                                               const std::string& ctx) {
  const auto* v = find(j, key, ctx);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) fail_input("{}.{}: expected a string", ctx, key);
  return v->get<std::string>();
}

bool get_bool(const nlohmann::json& j, const char* key, const std::string& ctx, bool fallback) {
  const auto* v = find(j, key, ctx);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) fail_input("{}.{}: expected true or false", ctx, key);
  return v->get<bool>();
}

std::int64_t get_int(const nlohmann::json& j, const char* key, const std::string& ctx) {
  const auto v = get_optional_int(j, key, ctx);
  if (!v) fail_input("{}.{}: missing", ctx, key);
  return *v;
}

std::optional<std::int64_t> get_optional_int(const nlohmann::json& j, const char* key,
                                             const std::string& ctx) {
  const auto* v = find(j, key, ctx);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer()) fail_input("{}.{}: expected an integer", ctx, key);
  return v->get<std::int64_t>();
}

std::string get_type(const nlohmann::json& j, const std::string& ctx) {
  return get_string(j, "type", ctx);
}

}  // namespace strata::text

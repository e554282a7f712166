#include "core/util/json_access.h"

#include <utility>

#include "core/util/error.h"

namespace strata {
namespace {

const nlohmann::json* find(const nlohmann::json& j, const char* key, const std::string& ctx) {
  if (!j.is_object()) fail_input("{}: expected an object", ctx);
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

// What was found instead, short enough for one line.
std::string found(const nlohmann::json& v) {
  auto text = v.dump();
  return text.size() <= 40 ? text : text.substr(0, 37) + "...";
}

// The value at `key` as T where `is` accepts its JSON kind; nullopt where it is absent or null.
template <class T>
std::optional<T> optional_as(const nlohmann::json& j, const char* key, const std::string& ctx,
                             bool (nlohmann::json::*is)() const noexcept, const char* expected) {
  const auto* v = find(j, key, ctx);
  if (v == nullptr) return std::nullopt;
  if (!(v->*is)()) fail_input("{}: '{}' should be {}, got {}", ctx, key, expected, found(*v));
  return v->get<T>();
}

template <class T>
T required(std::optional<T> v, const char* key, const std::string& ctx) {
  if (!v) fail_input("{}: '{}' is missing", ctx, key);
  return *std::move(v);
}

}  // namespace

const nlohmann::json& require(const nlohmann::json& j, const char* key, const std::string& ctx) {
  const auto* v = find(j, key, ctx);
  if (v == nullptr) fail_input("{}: '{}' is missing", ctx, key);
  return *v;
}

const nlohmann::json& require_array(const nlohmann::json& j, const char* key, const std::string& ctx) {
  const auto& v = require(j, key, ctx);
  if (!v.is_array()) fail_input("{}: '{}' should be an array, got {}", ctx, key, found(v));
  return v;
}

std::string get_string(const nlohmann::json& j, const char* key, const std::string& ctx) {
  return required(get_optional_string(j, key, ctx), key, ctx);
}

std::optional<std::string> get_optional_string(const nlohmann::json& j, const char* key, const std::string& ctx) {
  return optional_as<std::string>(j, key, ctx, &nlohmann::json::is_string, "a string");
}

bool get_bool(const nlohmann::json& j, const char* key, const std::string& ctx, bool fallback) {
  return optional_as<bool>(j, key, ctx, &nlohmann::json::is_boolean, "true or false").value_or(fallback);
}

std::optional<std::int64_t> get_optional_int(const nlohmann::json& j, const char* key, const std::string& ctx) {
  return optional_as<std::int64_t>(j, key, ctx, &nlohmann::json::is_number_integer, "an integer");
}

std::int64_t get_int(const nlohmann::json& j, const char* key, const std::string& ctx) {
  return required(get_optional_int(j, key, ctx), key, ctx);
}

double get_number(const nlohmann::json& j, const char* key, const std::string& ctx, double fallback) {
  return optional_as<double>(j, key, ctx, &nlohmann::json::is_number, "a number").value_or(fallback);
}

std::string get_type(const nlohmann::json& j, const std::string& ctx) { return get_string(j, "type", ctx); }

}  // namespace strata

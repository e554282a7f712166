#pragma once
// Building a schema's fields from member pointers:
//   spec::field(&MoeConfig::atoms, "atoms", "atoms per dictionary (M)", spec::range(1, 65536))
// The value type decides how the field is read and written (codecs below); a member whose type
// has a schema of its own (std::optional<Sub>, std::vector<Sub>) is a sub-table or a list of
// sub-tables.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/ranges.h>

#include "core/spec/schema.h"

namespace strata::spec {

// What values a field takes.
struct Limits {
  double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  bool open_lo = false;  // lo itself excluded
  std::vector<std::string> choices;
  std::string text() const;  // "[1, 65536]", "(0, 10]", "mean, last, cls"
};
inline Limits range(double lo, double hi) { return Limits{lo, hi, false, {}}; }
inline Limits above(double lo, double hi) { return Limits{lo, hi, true, {}}; }  // (lo, hi]
inline Limits one_of(std::vector<std::string> choices) {
  Limits l;
  l.choices = std::move(choices);
  return l;
}

template <typename T, typename = void>
struct has_schema : std::false_type {};
template <typename T>
struct has_schema<T, std::void_t<decltype(T::schema())>> : std::true_type {};

// A value type with a codec of its own (a field that takes either a word or a list, say):
//   static T from_value(const nlohmann::json& v, std::string* error);  // error set: refused
//   nlohmann::json to_value() const;
//   static std::string type_name();                                     // for the reference
template <typename T, typename = void>
struct has_value_codec : std::false_type {};
template <typename T>
struct has_value_codec<T, std::void_t<decltype(T::from_value(std::declval<const nlohmann::json&>(), nullptr))>>
    : std::true_type {};

namespace detail {

template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {
  using element = T;
};
template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {
  using element = T;
};

inline std::string show(const nlohmann::json& v) { return v.is_string() ? "'" + v.get<std::string>() + "'" : v.dump(); }

// Scalars: a JSON value checked against its limits.
template <typename T>
T read_scalar(const nlohmann::json& v, const Reader& r, const std::string& where, const std::string& name, const Limits& lim) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) r.fail(where, "{} must be true or false", name);
    return v.get<bool>();
  } else if constexpr (std::is_same_v<T, char>) {
    if (!v.is_string() || v.get<std::string>().size() > 1) r.fail(where, "{} must be one character (or \"\" for none)", name);
    const auto s = v.get<std::string>();
    return s.empty() ? '\0' : s[0];
  } else if constexpr (std::is_integral_v<T>) {
    if (!v.is_number_integer()) r.fail(where, "{} must be an integer", name);
    if (v.is_number_unsigned() ? v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) : false)
      r.fail(where, "{} = {} is out of range {}", name, v.dump(), lim.text());
    const auto x = v.get<std::int64_t>();
    const double lo = std::is_unsigned_v<T> ? std::max(lim.lo, 0.0) : lim.lo;
    if (static_cast<double>(x) < lo || static_cast<double>(x) > lim.hi || (lim.open_lo && static_cast<double>(x) == lo))
      r.fail(where, "{} = {} is out of range {}", name, x, Limits{lo, lim.hi, lim.open_lo, {}}.text());
    return static_cast<T>(x);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) r.fail(where, "{} must be a number", name);
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < lim.lo || x > lim.hi || (lim.open_lo && x == lim.lo))
      r.fail(where, "{} = {} is out of range {}", name, x, lim.text());
    return x;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) r.fail(where, "{} must be a string", name);
    std::string s = v.get<std::string>();
    if (!lim.choices.empty() && std::find(lim.choices.begin(), lim.choices.end(), s) == lim.choices.end())
      r.fail(where, "{} = '{}' is not one of: {}", name, s, fmt::join(lim.choices, ", "));
    return s;
  } else if constexpr (std::is_same_v<T, std::filesystem::path>) {
    if (!v.is_string()) r.fail(where, "{} must be a string (a path)", name);
    std::filesystem::path p(v.get<std::string>());
    if (!p.empty() && p.is_relative() && !r.base_dir().empty()) p = (r.base_dir() / p).lexically_normal();
    return p;
  } else {
    static_assert(sizeof(T) == 0, "no codec for this field type");
  }
}

template <typename T>
nlohmann::json write_scalar(const T& x) {
  if constexpr (std::is_same_v<T, std::filesystem::path>) return x.string();
  else if constexpr (std::is_same_v<T, char>) return x == '\0' ? std::string() : std::string(1, x);
  else return x;
}

template <typename T>
std::string type_name() {
  if constexpr (std::is_same_v<T, bool>) return "boolean";
  else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, char>) return "integer";
  else if constexpr (std::is_floating_point_v<T>) return "number";
  else if constexpr (std::is_same_v<T, std::filesystem::path>) return "path";
  else if constexpr (std::is_same_v<T, char>) return "character";
  else return "string";
}

// Any value: scalars, optional scalars, lists of scalars, sub-specs.
template <typename T>
struct Codec {
  static T read(const nlohmann::json& v, const Reader& r, const std::string& where, const std::string& name, const Limits& lim,
                unsigned flags) {
    if constexpr (is_optional<T>::value) {
      if (v.is_null()) return std::nullopt;
      return Codec<typename is_optional<T>::element>::read(v, r, where, name, lim, flags);
    } else if constexpr (is_vector<T>::value) {
      using E = typename is_vector<T>::element;
      if (!v.is_array()) r.fail(where, "{} must be a list", name);
      if ((flags & kNonEmpty) && v.empty()) r.fail(where, "{} must not be an empty list", name);
      T out;
      for (std::size_t i = 0; i < v.size(); ++i)
        out.push_back(Codec<E>::read(v[i], r, Reader::child(where, std::to_string(i)),
                                     has_schema<E>::value ? name : name + "[" + std::to_string(i) + "]", lim, flags & ~kNonEmpty));
      return out;
    } else if constexpr (has_schema<T>::value) {
      T s{};
      spec::read(s, r, where);
      return s;
    } else if constexpr (has_value_codec<T>::value) {
      std::string error;
      T x = T::from_value(v, &error);
      if (!error.empty()) r.fail(where, "{} {}", name, error);
      return x;
    } else {
      T x = read_scalar<T>(v, r, where, name, lim);
      if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::filesystem::path>)
        if ((flags & kNonEmpty) && x.empty()) r.fail(where, "{} must not be empty", name);
      return x;
    }
  }
  static nlohmann::json write(const T& x, bool id) {
    if constexpr (is_optional<T>::value) {
      return x ? Codec<typename is_optional<T>::element>::write(*x, id) : nlohmann::json();
    } else if constexpr (is_vector<T>::value) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& e : x) j.push_back(Codec<typename is_vector<T>::element>::write(e, id));
      return j;
    } else if constexpr (has_schema<T>::value) {
      return id ? id_json(x) : to_json(x);
    } else if constexpr (has_value_codec<T>::value) {
      return x.to_value();
    } else {
      return write_scalar(x);
    }
  }
  static std::string type() {
    if constexpr (is_optional<T>::value) return Codec<typename is_optional<T>::element>::type();
    else if constexpr (is_vector<T>::value) return "list of " + Codec<typename is_vector<T>::element>::type() + "s";
    else if constexpr (has_schema<T>::value) return "table";
    else if constexpr (has_value_codec<T>::value) return T::type_name();
    else return type_name<T>();
  }
  static const SchemaInfo* nested() {
    if constexpr (is_optional<T>::value) return Codec<typename is_optional<T>::element>::nested();
    else if constexpr (is_vector<T>::value) return Codec<typename is_vector<T>::element>::nested();
    else if constexpr (has_schema<T>::value) return &T::schema().info();
    else return nullptr;
  }
};

}  // namespace detail

// A field stored in member `m` of S.
template <typename S, typename T>
Field<S> field(T S::*m, std::string key, std::string doc, Limits lim = {}, unsigned flags = kNone, std::string axis_key = "") {
  using C = detail::Codec<T>;
  Field<S> f;
  f.doc.key = std::move(key);
  f.doc.type = C::type();
  f.doc.doc = std::move(doc);
  f.doc.range = lim.text();
  f.doc.choices = lim.choices;
  f.doc.lo = lim.lo;
  f.doc.hi = lim.hi;
  f.doc.flags = flags;
  f.doc.axis_key = std::move(axis_key);
  f.doc.list = detail::is_vector<T>::value;
  f.doc.nested = C::nested();
  f.get = [m](const S& s) { return C::write(s.*m, false); };
  f.id = [m](const S& s) { return C::write(s.*m, true); };
  f.set = [m, lim, flags](S& s, const nlohmann::json& v, const Reader& r, const std::string& where, const std::string& name) {
    s.*m = C::read(v, r, where, name, lim, flags);
  };
  if constexpr (std::is_default_constructible_v<S>) {
    if (!f.doc.nested) f.doc.default_value = f.get(S{}).dump();
  }
  return f;
}

}  // namespace strata::spec

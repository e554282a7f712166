#pragma once
// One declaration per job spec. A spec is a plain struct; its schema lists its fields once
// (key, type, default, range or choices, doc string, whether it changes a result), and
// everything that reads or writes the struct comes from that list:
//   - reading a sweep file's table (checked, with "FILE:LINE:COL: message" and "did you mean"),
//   - the canonical JSON hashed into a job id (only the fields that change a result),
//   - the wire format between ranks and the attributes stored with a result (every field),
//   - the sweep-key reference (`strata keys`, sweeps/REFERENCE.md).
// Values are read from JSON; core/spec/document.h turns a TOML file into JSON that remembers
// where each value stood, so messages can point at it.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/spec/document.h"

namespace strata::spec {

// How a field takes part.
enum Flags : unsigned {
  kNone = 0,
  kNoId = 1u << 0,      // does not change a result (threads, device, where it runs): not in ids
  kRequired = 1u << 1,  // must be given
  kInternal = 1u << 2,  // set by the program (a seed from [experiment], a content fingerprint),
                        // never read from a sweep file; still in ids and on the wire
  kNonEmpty = 1u << 3,  // a string or list that must not be empty
  kByContent = 1u << 4, // a path whose content enters the id through a fingerprint field,
                        // so the path itself is not in the id (a moved folder is the same input)
  kIdIfSet = 1u << 5,   // in the id only where it differs from its default: an option added
                        // later leaves the ids of every job that does not use it as they were
};

// What the reference says about one field.
struct FieldDoc {
  std::string key, type, doc, default_value, range;
  std::vector<std::string> choices;  // a string field's values, when it has a fixed set
  double lo = 0, hi = 0;             // a number's range (range says whether lo is included)
  unsigned flags = kNone;
  std::string axis_key;  // the key that lists several values as a grid axis ("": the key itself,
                         // for a field whose value is not itself a list)
  bool list = false;     // its value is a list (so a list under its own key is no axis)
  const struct SchemaInfo* nested = nullptr;  // a sub-table or a list of sub-tables
};

// The part of a schema that does not depend on the struct: its name and fields' docs.
struct SchemaInfo {
  std::string section;  // e.g. "moe", "corpus.source"
  std::string doc;
  std::vector<FieldDoc> fields;
  bool grid = false;    // every field of a grid section may list values: the runs are their product
  std::vector<std::string> keys() const;  // every key a table may hold (axis keys too)
};

// One field of a struct S, type-erased.
template <typename S>
struct Field {
  FieldDoc doc;
  std::function<nlohmann::json(const S&)> get;
  // Reads the field from `v` (at `where` in `r`), throwing InputError located there; `name`
  // is how messages call it ("moe.atoms").
  std::function<void(S&, const nlohmann::json& v, const Reader& r, const std::string& where, const std::string& name)> set;
  // Id form of the value (nested specs give only their id fields).
  std::function<nlohmann::json(const S&)> id;
};

template <typename S>
class Schema {
 public:
  Schema(std::string section, std::string doc, bool grid = false) {
    info_.section = std::move(section);
    info_.doc = std::move(doc);
    info_.grid = grid;
  }
  Schema& add(Field<S> f) {
    info_.fields.push_back(f.doc);
    fields_.push_back(std::move(f));
    return *this;
  }
  // A check across fields, run after a table is read: throws InputError (via r.fail).
  Schema& check(std::function<void(const S&, const Reader& r, const std::string& where)> c) {
    checks_.push_back(std::move(c));
    return *this;
  }
  const SchemaInfo& info() const { return info_; }
  const std::vector<Field<S>>& fields() const { return fields_; }
  const std::vector<std::function<void(const S&, const Reader&, const std::string&)>>& checks() const { return checks_; }

 private:
  SchemaInfo info_;
  std::vector<Field<S>> fields_;
  std::vector<std::function<void(const S&, const Reader&, const std::string&)>> checks_;
};

// A spec type declares `static const spec::Schema<T>& schema();`.
template <typename S>
const Schema<S>& schema_of() {
  return S::schema();
}

// --- reading ------------------------------------------------------------------------------

// Reads a table (a JSON object at `where`) into `s`, starting from s's current values
// (defaults): unknown keys are refused with the closest known one, every value is checked, then
// the cross-field checks run. Internal fields are refused in sweep files (r.sweep_file()).
template <typename S>
void read(S& s, const Reader& r, const std::string& where) {
  const auto& sc = schema_of<S>();
  const nlohmann::json& obj = r.at(where);
  if (!obj.is_object()) r.fail(where, "{} must be a table", sc.info().section);
  r.refuse_unknown(where, sc.info());
  for (const auto& f : sc.fields()) {
    const std::string at = Reader::child(where, f.doc.key);
    if (!obj.contains(f.doc.key)) {
      if (f.doc.flags & kRequired) r.fail(where, "{} needs '{}'", sc.info().section, f.doc.key);
      continue;
    }
    if ((f.doc.flags & kInternal) && r.sweep_file()) r.fail(at, "{}.{} is set by strata, not in a sweep file", sc.info().section, f.doc.key);
    f.set(s, obj.at(f.doc.key), r, at, sc.info().section + "." + f.doc.key);
  }
  for (const auto& c : sc.checks()) c(s, r, where);
}

template <typename S>
S read(const Reader& r, const std::string& where) {
  S s{};
  read(s, r, where);
  return s;
}

// A spec from its JSON form (the wire format, a stored config).
template <typename S>
S from_json(const nlohmann::json& j, const std::string& what) {
  const Reader r(j, what);
  return read<S>(r, "");
}

// --- writing ------------------------------------------------------------------------------

// Every field: the wire format and the attributes stored with a result.
template <typename S>
nlohmann::json to_json(const S& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : schema_of<S>().fields()) j[f.doc.key] = f.get(s);
  return j;
}

// The fields that change a result: hashed into the job id.
template <typename S>
nlohmann::json id_json(const S& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : schema_of<S>().fields()) {
    if (f.doc.flags & (kNoId | kByContent)) continue;
    if ((f.doc.flags & kIdIfSet) && f.get(s).dump() == f.doc.default_value) continue;
    j[f.doc.key] = f.id(s);
  }
  return j;
}

// --- grids --------------------------------------------------------------------------------

// A grid section: a base spec and, for each field given as a list, its values. The runs are
// the product, the first field declared varying slowest.
template <typename S>
struct Grid {
  S base{};
  struct Axis {
    std::size_t field;
    std::vector<nlohmann::json> values;
    std::string where;  // of the list in the document, for messages
  };
  std::vector<Axis> axes;
  // Every point of the grid; with a reader, the section's cross-field checks run on each and
  // report at `where`.
  std::vector<S> expand(const Reader* r = nullptr, const std::string& where = "") const;
  // The values a field takes over the grid (one when it is no axis).
  std::vector<nlohmann::json> values(const std::string& key) const;
};

namespace detail {
// The key listing a field's grid values: its axis key, else its own key for a scalar field,
// else "" (a list-valued field without an axis key cannot be swept).
inline std::string axis_key_of(const FieldDoc& d) { return !d.axis_key.empty() ? d.axis_key : d.list ? "" : d.key; }
}  // namespace detail

// Reads a grid section: a scalar-valued key may hold a list (an axis); a list-valued key has
// its axis key (e.g. sparsity_sets). Duplicated and empty axes are refused.
template <typename S>
Grid<S> read_grid(const Reader& r, const std::string& where) {
  const auto& sc = schema_of<S>();
  Grid<S> g;
  const nlohmann::json& obj = r.at(where);
  if (!obj.is_object()) r.fail(where, "{} must be a table", sc.info().section);
  r.refuse_unknown(where, sc.info());
  for (std::size_t i = 0; i < sc.fields().size(); ++i) {
    const auto& f = sc.fields()[i];
    const std::string axis = detail::axis_key_of(f.doc);
    const std::string name = sc.info().section + "." + f.doc.key;
    const bool has_key = obj.contains(f.doc.key), has_axis = !axis.empty() && axis != f.doc.key && obj.contains(axis);
    if (has_key && has_axis)
      r.fail(Reader::child(where, f.doc.key), "{}: give either {} or {}, not both", sc.info().section, f.doc.key, axis);
    if (!has_key && !has_axis) {
      if (f.doc.flags & kRequired) r.fail(where, "{} needs '{}'", sc.info().section, f.doc.key);
      continue;
    }
    if ((f.doc.flags & kInternal) && r.sweep_file())
      r.fail(Reader::child(where, f.doc.key), "{}.{} is set by strata, not in a sweep file", sc.info().section, f.doc.key);
    const std::string key = has_axis ? axis : f.doc.key;
    const std::string at = Reader::child(where, key);
    const nlohmann::json& v = obj.at(key);
    // A list under the axis key, or a list under a scalar field's own key, is an axis.
    const bool scalar_field = axis == f.doc.key;
    if (has_axis || (scalar_field && v.is_array() && !f.doc.nested)) {
      if (!v.is_array()) r.fail(at, "{}.{} must be a list", sc.info().section, key);
      if (v.empty()) r.fail(at, "{}.{} is an empty list: the grid would have no runs", sc.info().section, key);
      typename Grid<S>::Axis a{i, {}, at};
      for (std::size_t k = 0; k < v.size(); ++k) {
        S probe = g.base;
        f.set(probe, v[k], r, Reader::child(at, std::to_string(k)), name);
        const nlohmann::json value = f.get(probe);
        for (const auto& seen : a.values)
          if (seen == value) r.fail(at, "{}.{} lists the same value twice", sc.info().section, key);
        a.values.push_back(value);
      }
      if (a.values.size() == 1) {
        f.set(g.base, v[0], r, Reader::child(at, "0"), name);
      } else {
        g.axes.push_back(std::move(a));
      }
    } else {
      f.set(g.base, v, r, at, name);
    }
  }
  g.expand(&r, where);  // runs the cross-field checks on every point
  return g;
}

template <typename S>
std::vector<S> Grid<S>::expand(const Reader* r, const std::string& where) const {
  const auto& sc = schema_of<S>();
  std::vector<S> out{base};
  for (const auto& a : axes) {
    std::vector<S> next;
    next.reserve(out.size() * a.values.size());
    for (const auto& s : out)
      for (const auto& v : a.values) {
        S t = s;
        const Reader w(v, sc.info().section);
        const auto& f = sc.fields()[a.field];
        f.set(t, v, w, "", sc.info().section + "." + f.doc.key);
        next.push_back(std::move(t));
      }
    out = std::move(next);
  }
  if (r != nullptr)
    for (const auto& s : out)
      for (const auto& c : sc.checks()) c(s, *r, where);
  return out;
}

template <typename S>
std::vector<nlohmann::json> Grid<S>::values(const std::string& key) const {
  const auto& sc = schema_of<S>();
  for (const auto& a : axes)
    if (sc.fields()[a.field].doc.key == key) return a.values;
  for (const auto& f : sc.fields())
    if (f.doc.key == key) return {f.get(base)};
  return {};
}

// The reference of one section as Markdown (a table of key, type, default, doc).
std::string reference_markdown(const SchemaInfo& s);

}  // namespace strata::spec

#include "core/spec/document.h"

#include <algorithm>
#include <cmath>

#include <fmt/ranges.h>

#include "core/spec/fields.h"
#include "core/spec/toml.h"

namespace strata::spec {

namespace {

std::string escape(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

// TOML values as JSON, recording each value's place under its pointer.
nlohmann::json convert(const toml::node& n, const std::string& where, std::map<std::string, std::pair<int, int>>& places,
                       const std::string& file) {
  const auto& b = n.source().begin;
  places[where] = {static_cast<int>(b.line), static_cast<int>(b.column)};
  if (const auto* t = n.as_table()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : *t) j[std::string(k.str())] = convert(v, Reader::child(where, std::string(k.str())), places, file);
    return j;
  }
  if (const auto* a = n.as_array()) {
    nlohmann::json j = nlohmann::json::array();
    for (std::size_t i = 0; i < a->size(); ++i) j.push_back(convert((*a)[i], Reader::child(where, std::to_string(i)), places, file));
    return j;
  }
  if (const auto* s = n.as_string()) return s->get();
  if (const auto* i = n.as_integer()) return i->get();
  if (const auto* f = n.as_floating_point()) return f->get();
  if (const auto* v = n.as_boolean()) return v->get();
  throw InputError(fmt::format("{}:{}:{}: dates and times are not used in a sweep file", file, b.line, b.column));
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

Reader::Reader(nlohmann::json doc, std::string what) : doc_(std::move(doc)), what_(std::move(what)) {}

Reader Reader::from_toml(const std::string& text, const std::filesystem::path& file) {
  const std::string name = file.string();
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw InputError(fmt::format("{}:{}:{}: {}", name, b.line, b.column, e.description()));
  }
  Reader r(nlohmann::json::object(), name);
  r.doc_ = convert(root, "", r.places_, name);
  r.places_[""] = {1, 1};
  r.base_ = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
  r.sweep_file_ = true;
  return r;
}

const nlohmann::json& Reader::at(const std::string& where) const {
  return doc_.at(nlohmann::json::json_pointer(where));
}

bool Reader::has(const std::string& where) const { return doc_.contains(nlohmann::json::json_pointer(where)); }

std::string Reader::child(const std::string& where, const std::string& key) { return where + "/" + escape(key); }

Reader Reader::moved(const std::string& from, const std::string& to) const {
  Reader out = *this;
  const nlohmann::json::json_pointer src(from), dst(to);
  out.doc_[dst] = doc_.at(src);
  out.doc_.at(src.parent_pointer()).erase(src.back());
  out.places_.clear();
  for (const auto& [w, place] : places_) {
    if (w.rfind(from, 0) == 0 && (w.size() == from.size() || w[from.size()] == '/')) out.places_[to + w.substr(from.size())] = place;
    else out.places_[w] = place;
  }
  return out;
}

std::string Reader::prefix(const std::string& where) const {
  if (places_.empty()) return what_.empty() ? std::string() : what_ + ": ";
  std::string w = where;
  while (true) {
    if (const auto it = places_.find(w); it != places_.end())
      return fmt::format("{}:{}:{}: ", what_, it->second.first, it->second.second);
    if (w.empty()) return what_ + ": ";
    w.resize(w.rfind('/'));
  }
}

void Reader::refuse_unknown(const std::string& where, const std::string& section, const std::vector<std::string>& keys) const {
  const auto& obj = at(where);
  if (!obj.is_object()) return;
  for (const auto& [k, v] : obj.items()) {
    if (std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
    const std::string hint = closest(k, keys);
    fail(child(where, k), "unknown key '{}' in {}{}", k, section, hint.empty() ? "" : " (did you mean '" + hint + "'?)");
  }
}

void Reader::refuse_unknown(const std::string& where, const SchemaInfo& info) const {
  std::vector<std::string> keys;
  for (const auto& f : info.fields)
    if (!(f.flags & kInternal) || !sweep_file_) keys.push_back(f.key);
  for (const auto& f : info.fields)
    if (!f.axis_key.empty()) keys.push_back(f.axis_key);
  refuse_unknown(where, info.section, keys);
}

std::string closest(const std::string& word, const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_d = 1000;
  for (const auto& k : known) {
    const std::size_t d = edit_distance(word, k);
    if (d < best_d) best_d = d, best = k;
  }
  return best_d <= std::max<std::size_t>(2, word.size() / 3) ? best : "";
}

std::string Limits::text() const {
  if (!choices.empty()) return fmt::format("{}", fmt::join(choices, ", "));
  const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
  if (!has_lo && !has_hi) return "";
  return fmt::format("{}{}, {}]", open_lo ? "(" : "[", has_lo ? fmt::format("{}", lo) : "-inf",
                     has_hi ? fmt::format("{}", hi) : "inf");
}

std::vector<std::string> SchemaInfo::keys() const {
  std::vector<std::string> out;
  for (const auto& f : fields) {
    out.push_back(f.key);
    if (!f.axis_key.empty()) out.push_back(f.axis_key);
  }
  return out;
}

std::string reference_markdown(const SchemaInfo& s) {
  std::string out = fmt::format("### [{}]\n\n{}\n\n", s.section, s.doc);
  if (s.grid) out += "Every key may hold a list of values: the runs are the product of the lists.\n\n";
  out += "| key | type | default | range | changes results | meaning |\n|---|---|---|---|---|---|\n";
  std::vector<const SchemaInfo*> nested;
  for (const auto& f : s.fields) {
    if (f.flags & kInternal) continue;
    std::string key = "`" + f.key + "`";
    if (!f.axis_key.empty()) key += " or `" + f.axis_key + "` (a list of values: a grid axis)";
    std::string type = f.type;
    if (f.flags & kRequired) type += ", required";
    const char* id = (f.flags & kNoId) ? "no" : (f.flags & kByContent) ? "by content" : "yes";
    std::string doc = f.doc;
    std::replace(doc.begin(), doc.end(), '|', '/');
    out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", key, type, f.nested ? "" : "`" + f.default_value + "`", f.range, id, doc);
    if (f.nested) nested.push_back(f.nested);
  }
  out += "\n";
  for (const auto* n : nested) out += reference_markdown(*n);
  return out;
}

}  // namespace strata::spec

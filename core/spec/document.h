#pragma once
// A document a spec is read from: JSON, with where each value stood in the file it came from.
// A sweep file (TOML) keeps line and column of every key; a job spec from the wire has none.
// Places inside a document are JSON pointers ("/moe/atoms", "/corpus/source/0/path").
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/util/error.h"

namespace strata::spec {

struct SchemaInfo;

class Reader {
 public:
  // A document without places: messages begin with `what` (e.g. "job spec").
  Reader(nlohmann::json doc, std::string what);
  // A TOML sweep file's text; syntax errors throw InputError "FILE:LINE:COL: ...".
  static Reader from_toml(const std::string& text, const std::filesystem::path& file);

  const nlohmann::json& root() const { return doc_; }
  const nlohmann::json& at(const std::string& where) const;
  bool has(const std::string& where) const;
  static std::string child(const std::string& where, const std::string& key);
  // The same document with the value at `from` moved to `to` (its places go with it).
  Reader moved(const std::string& from, const std::string& to) const;

  // The folder relative paths are resolved against (a sweep file's folder; empty: none).
  const std::filesystem::path& base_dir() const { return base_; }
  // True for a sweep file: internal fields may not be written there.
  bool sweep_file() const { return sweep_file_; }

  // "FILE:LINE:COL: message" at the place (or the closest enclosing one that has a place).
  template <typename... Args>
  [[noreturn]] void fail(const std::string& where, fmt::format_string<Args...> f, Args&&... a) const {
    throw InputError(prefix(where) + fmt::format(f, std::forward<Args>(a)...));
  }
  std::string prefix(const std::string& where) const;
  // Refuses keys of the table at `where` that the section does not know, naming the closest.
  void refuse_unknown(const std::string& where, const SchemaInfo& info) const;
  void refuse_unknown(const std::string& where, const std::string& section, const std::vector<std::string>& keys) const;

 private:
  nlohmann::json doc_;
  std::string what_;
  std::filesystem::path base_;
  bool sweep_file_ = false;
  std::map<std::string, std::pair<int, int>> places_;  // pointer -> (line, column)
};

// The known word closest to `word` within a few edits ("" for none): "did you mean".
std::string closest(const std::string& word, const std::vector<std::string>& known);

}  // namespace strata::spec

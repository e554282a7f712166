#pragma once
// Small helpers shared by the Catch2 tests.
#include <filesystem>
#include <string>

#include "core/util/error.h"

namespace strata::test {

// The InputError message a callable throws ("" when it throws none).
template <typename F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const strata::InputError& e) {
    return e.what();
  }
  return "";
}

// An empty folder under the system's temporary folder, named "strata-<name>" (emptied if present).
inline std::filesystem::path scratch_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("strata-" + name);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace strata::test

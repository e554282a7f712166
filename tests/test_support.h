#pragma once
// Small helpers shared by the Catch2 tests.
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

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace strata::test

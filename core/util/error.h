#pragma once
// Errors carry their context (file, place, what was expected) so the CLI can print one line.
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace strata {

// Bad input from the user: a sweep file, a data file, an archive. Exit code 2 at the CLI.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A computation that failed on valid input. Exit code 1 at the CLI.
class RunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail_input(fmt::format_string<Args...> f, Args&&... args) {
  throw InputError(fmt::format(f, std::forward<Args>(args)...));
}

template <typename... Args>
[[noreturn]] void fail_run(fmt::format_string<Args...> f, Args&&... args) {
  throw RunError(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace strata

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

// The disk refused a write (full, read-only, failing): nothing computed is wrong, and the run
// can go on with --resume once the disk is fixed. Exit code 2 at the CLI, like bad input.
class StorageError : public InputError {
 public:
  StorageError(const std::string& message, std::string reason) : InputError(message), reason_(std::move(reason)) {}
  // The operating system's words for it ("No space left on device").
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
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

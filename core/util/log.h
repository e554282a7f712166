#pragma once
// Messages to stderr. One line each; level set once by the CLI.
#include <cstdio>
#include <functional>
#include <string>

#include <fmt/format.h>

namespace strata::log {

enum class Level { quiet = 0, warn = 1, info = 2, debug = 3 };

Level level();
void set_level(Level l);
void write(Level l, const std::string& line);

// Where lines go instead of stderr (empty: stderr again), e.g. above a live display that
// would otherwise draw over them. Gets each line whole, with its "warning: " tag; must not
// log itself.
using Writer = std::function<void(const std::string& line)>;
void set_writer(Writer w);

template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... a) {
  if (level() >= Level::info) write(Level::info, fmt::format(f, std::forward<Args>(a)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... a) {
  if (level() >= Level::warn) write(Level::warn, fmt::format(f, std::forward<Args>(a)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... a) {
  if (level() >= Level::debug) write(Level::debug, fmt::format(f, std::forward<Args>(a)...));
}

}  // namespace strata::log

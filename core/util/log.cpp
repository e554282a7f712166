#include "core/util/log.h"

#include <atomic>
#include <mutex>

namespace strata::log {

namespace {
std::atomic<Level> g_level{Level::info};
std::mutex g_mutex;
}  // namespace

Level level() { return g_level.load(); }
void set_level(Level l) { g_level.store(l); }

void write(Level l, const std::string& line) {
  std::lock_guard<std::mutex> lock(g_mutex);
  const char* tag = l == Level::warn ? "warning: " : "";
  std::fprintf(stderr, "%s%s\n", tag, line.c_str());
}

}  // namespace strata::log

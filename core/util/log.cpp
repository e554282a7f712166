#include "core/util/log.h"

#include <atomic>
#include <mutex>

namespace strata::log {

namespace {
std::atomic<Level> g_level{Level::info};
std::mutex g_mutex;
Writer g_writer;
}  // namespace

Level level() { return g_level.load(); }
void set_level(Level l) { g_level.store(l); }

void write(Level l, const std::string& line) {
  std::lock_guard<std::mutex> lock(g_mutex);
  const char* tag = l == Level::warn ? "warning: " : "";
  if (g_writer) return g_writer(tag + line);
  std::fprintf(stderr, "%s%s\n", tag, line.c_str());
}

void set_writer(Writer w) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_writer = std::move(w);
}

}  // namespace strata::log

#include "core/util/crash_point.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <string>

#include "core/util/error.h"
#include "core/util/log.h"

namespace strata {

namespace {

struct CrashSpec {
  std::string point;
  std::string rank;  // empty: any rank
  long nth = 1;
};

std::string world_rank() {
  const char* mine = std::getenv("OMPI_COMM_WORLD_RANK");
  if (!mine) mine = std::getenv("PMI_RANK");
  return mine ? mine : "0";
}

// Read once, when the first crash point is reached.
std::optional<CrashSpec> parse_spec() {
  const char* env = std::getenv("STRATA_CRASH_AT");
  if (!env || !*env) return std::nullopt;
  const std::string s(env);
  const auto at = s.find('@'), hash = s.find('#');
  if (at == 0 || hash == 0 || (at != std::string::npos && hash != std::string::npos && hash < at))
    fail_input("STRATA_CRASH_AT={}: expected POINT[@RANK][#N]", s);
  CrashSpec spec;
  spec.point = s.substr(0, std::min(at, hash));
  if (at != std::string::npos) spec.rank = s.substr(at + 1, hash == std::string::npos ? hash : hash - at - 1);
  if (hash != std::string::npos) {
    const std::string n = s.substr(hash + 1);
    char* end = nullptr;
    spec.nth = std::strtol(n.c_str(), &end, 10);
    if (n.empty() || *end != '\0' || spec.nth < 1) fail_input("STRATA_CRASH_AT={}: #N must be a positive count", s);
  }
  if (!spec.rank.empty() && spec.rank != world_rank()) return std::nullopt;
  return spec;
}

}  // namespace

void crash_point(const char* name) {
  static const std::optional<CrashSpec> spec = parse_spec();
  static std::atomic<long> reached{0};
  if (!spec || spec->point != name) return;
  if (reached.fetch_add(1) + 1 != spec->nth) return;
  log::warn("STRATA_CRASH_AT: killing rank {} at '{}' (time {})", world_rank(), name, spec->nth);
  std::raise(SIGKILL);
}

}  // namespace strata

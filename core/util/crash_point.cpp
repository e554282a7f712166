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

std::string world_rank() {
  const char* mine = std::getenv("OMPI_COMM_WORLD_RANK");
  if (!mine) mine = std::getenv("PMI_RANK");
  return mine ? mine : "0";
}

bool FaultSpec::on_this_rank() const { return rank.empty() || rank == world_rank(); }

std::optional<FaultSpec> fault_from_env(const char* variable) {
  const char* env = std::getenv(variable);
  if (!env || !*env) return std::nullopt;
  const std::string whole(env);
  FaultSpec spec;
  std::string s = whole;
  if (const auto colon = s.find(':'); colon != std::string::npos) spec.mode = s.substr(0, colon), s = s.substr(colon + 1);
  const auto at = s.find('@'), hash = s.find('#');
  if (s.empty() || at == 0 || hash == 0 || (at != std::string::npos && hash != std::string::npos && hash < at))
    fail_input("{}={}: expected [MODE:]POINT[@RANK][#N]", variable, whole);
  spec.point = s.substr(0, std::min(at, hash));
  if (at != std::string::npos) spec.rank = s.substr(at + 1, hash == std::string::npos ? hash : hash - at - 1);
  if (hash != std::string::npos) {
    const std::string n = s.substr(hash + 1);
    char* end = nullptr;
    spec.nth = std::strtol(n.c_str(), &end, 10);
    if (n.empty() || *end != '\0' || spec.nth < 1) fail_input("{}={}: #N must be a positive count", variable, whole);
  }
  return spec;
}

void crash_point(const char* name) {
  static const std::optional<FaultSpec> spec = fault_from_env("STRATA_CRASH_AT");
  static std::atomic<long> reached{0};
  if (!spec || spec->point != name || !spec->on_this_rank()) return;
  if (reached.fetch_add(1) + 1 != spec->nth) return;
  log::warn("STRATA_CRASH_AT: killing rank {} at '{}' (time {})", world_rank(), name, spec->nth);
  std::raise(SIGKILL);
}

}  // namespace strata

#include "core/util/host_memory.h"

#include <unistd.h>

#include "core/util/error.h"

namespace strata {

double host_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? static_cast<double>(pages) * static_cast<double>(size) : 0;
}

void check_memory(double need, double available, const std::string& what, const std::string& kind,
                  const std::string& holder, const std::string& advice) {
  constexpr double kGiB = 1ULL << 30;
  if (available > 0 && need > available)
    fail_input("{} needs at least {:.1f} GiB of {}, but {} has {:.1f} GiB ({})", what, need / kGiB, kind, holder,
               available / kGiB, advice);
}

void check_host_memory(double need, double available, const std::string& what, const std::string& advice) {
  check_memory(need, available, what, "host memory", "this host", advice);
}

}  // namespace strata

#pragma once
// Refusing a job before it allocates more memory than the machine (or its GPU) has: a job would
// otherwise fail half-way (or meet the kernel's OOM killer where memory is overcommitted).
// Estimates are lower bounds from the job's shapes; a job may still need more.
#include <string>

namespace strata {

// The host's physical memory in bytes (0 where it cannot be read).
double host_memory_bytes();

// InputError "<what> needs at least X GiB of <kind>, but <holder> has Y GiB (<advice>)" when
// need > available > 0, e.g. kind "GPU memory", holder "cuda:0".
void check_memory(double need, double available, const std::string& what, const std::string& kind,
                  const std::string& holder, const std::string& advice);
// The same for host memory ("... of host memory, but this host has ...").
void check_host_memory(double need, double available, const std::string& what, const std::string& advice);

}  // namespace strata

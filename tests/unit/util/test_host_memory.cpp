// Jobs refused before they allocate more than the host has, with the numbers.
#include <string>

#include "core/util/error.h"
#include "core/util/host_memory.h"
#include "tests/catch.hpp"

TEST_CASE("host memory: a job needing more than the host has is refused with the numbers", "[memory]") {
  CHECK(strata::host_memory_bytes() > 0);
  constexpr double kGiB = 1ULL << 30;
  CHECK_NOTHROW(strata::check_host_memory(3 * kGiB, 4 * kGiB, "job", "lower it"));
  CHECK_NOTHROW(strata::check_host_memory(3 * kGiB, 0, "job", "lower it"));  // unknown: not refused
  CHECK_THROWS_AS(strata::check_host_memory(5 * kGiB, 4 * kGiB, "job", "lower it"), strata::InputError);
  CHECK_THROWS_WITH(strata::check_host_memory(40.3 * kGiB, 24 * kGiB, "embedding m (10 texts)", "keep fewer layers"),
                    "embedding m (10 texts) needs at least 40.3 GiB of host memory, but this host has 24.0 GiB "
                    "(keep fewer layers)");
}

TEST_CASE("device memory: the same refusal names the kind of memory and the device", "[memory]") {
  constexpr double kGiB = 1ULL << 30;
  CHECK_NOTHROW(strata::check_memory(100 * kGiB, 139.8 * kGiB, "training", "GPU memory", "cuda:0", "lower it"));
  CHECK_THROWS_WITH(strata::check_memory(640 * kGiB, 139.8 * kGiB, "model m (bf16 weights)", "GPU memory", "cuda:0",
                                         "embed in bf16"),
                    "model m (bf16 weights) needs at least 640.0 GiB of GPU memory, but cuda:0 has 139.8 GiB "
                    "(embed in bf16)");
}

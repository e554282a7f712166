#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <string>

#include "core/util/crash_point.h"
#include "core/util/error.h"
#include "tests/catch.hpp"

namespace {

enum class End { killed, survived, input_error };

// Reaches crash point "p" `times` times in a child process with STRATA_CRASH_AT=spec (and
// OMPI_COMM_WORLD_RANK=rank when given): the spec is read once per process, so each case forks.
End reach(const char* spec, int times, const char* rank = nullptr) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("STRATA_CRASH_AT", spec, 1);
    if (rank) ::setenv("OMPI_COMM_WORLD_RANK", rank, 1);
    else ::unsetenv("OMPI_COMM_WORLD_RANK");
    ::unsetenv("PMI_RANK");
    try {
      for (int i = 0; i < times; ++i) strata::crash_point("p");
    } catch (const strata::InputError&) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return End::killed;
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status) == 3 ? End::input_error : End::survived;
}

}  // namespace

TEST_CASE("STRATA_CRASH_AT kills at the named point, the N-th time, on the named rank", "[crash_point]") {
  CHECK(reach("p", 1) == End::killed);
  CHECK(reach("q", 5) == End::survived);
  CHECK(reach("p#3", 2) == End::survived);
  CHECK(reach("p#3", 3) == End::killed);
  CHECK(reach("p@0", 1) == End::killed);  // without mpirun a process is rank 0
  CHECK(reach("p@1", 4) == End::survived);
  CHECK(reach("p@1#2", 2, "1") == End::killed);
  CHECK(reach("p@1#2", 2, "2") == End::survived);
  CHECK(reach("p#0", 1) == End::input_error);
  CHECK(reach("p#x", 1) == End::input_error);
  CHECK(reach("#2", 1) == End::input_error);
  CHECK(reach("p#2@1", 1) == End::input_error);
}

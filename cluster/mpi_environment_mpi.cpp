// MpiEnvironment: MPI_Init_thread / MPI_Finalize around the process, and the world
// communicator.
#include <cstdlib>
#include <exception>

#include "cluster/mpi_comm_impl.h"
#include "core/util/error.h"

namespace strata::cluster {

namespace {

// MPI allows one initialisation per process; a second environment is a programming error.
bool g_environment_alive = false;

}  // namespace

MpiEnvironment::MpiEnvironment(Threading threading) : uncaught_at_start_(std::uncaught_exceptions()) {
  if (g_environment_alive) fail_run("MPI: only one MpiEnvironment may exist in a process");
  int initialized = 0;
  check_mpi(MPI_Initialized(&initialized), "MPI_Initialized");
  if (initialized) fail_run("MPI: MPI was already initialised by another part of the program");

  const int wanted = threading == Threading::funneled   ? MPI_THREAD_FUNNELED
                     : threading == Threading::multiple ? MPI_THREAD_MULTIPLE
                                                        : MPI_THREAD_SERIALIZED;
  int provided = 0;
  check_mpi(MPI_Init_thread(nullptr, nullptr, wanted, &provided), "MPI_Init_thread");
  g_environment_alive = true;
  if (provided < wanted) {
    MPI_Finalize();
    g_environment_alive = false;
    fail_run("MPI: asked for thread level {} but the library provides only {}", wanted, provided);
  }
  try {
    MPI_Comm world = MPI_COMM_NULL;
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &world), "MPI_Comm_dup(MPI_COMM_WORLD)");
    world_ = std::make_unique<MpiComm>(adopt_communicator(world, kDefaultChunkBytes));
  } catch (...) {
    MPI_Abort(MPI_COMM_WORLD, 1);
    throw;
  }
}

MpiEnvironment::~MpiEnvironment() {
  if (std::uncaught_exceptions() > uncaught_at_start_) {
    // Another rank may be blocked waiting for this one: finalising would hang the job.
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  world_.reset();
  MPI_Finalize();
  g_environment_alive = false;
}

MpiComm& MpiEnvironment::world() { return *world_; }

void MpiEnvironment::abort(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::abort();  // MPI_Abort does not return; this keeps [[noreturn]] honest if it did
}

}  // namespace strata::cluster

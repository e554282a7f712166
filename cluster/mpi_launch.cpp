// How the process was started: this part of the MPI layer needs no MPI library, so a plain
// `strata run` can ask it without initialising MPI.
#include <cstdlib>

#include "cluster/mpi_comm.h"

namespace strata::cluster {

namespace {

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0';
}

}  // namespace

bool built_with_mpi() {
#if defined(STRATA_HAVE_MPI)
  return true;
#else
  return false;
#endif
}

bool MpiEnvironment::launched_under_mpi() {
  // OpenMPI's mpirun, then any PMI-1/2 launcher (MPICH Hydra, Intel MPI, srun --mpi=pmi2),
  // then PMIx (OpenMPI 4/5, srun --mpi=pmix).
  if (env_set("OMPI_COMM_WORLD_SIZE") || env_set("PMI_SIZE") || env_set("PMIX_RANK")) return true;
  // srun sets the step's task count for every task it starts; a batch script (the shell
  // that will call srun) has the job's variables but no step of its own.
  return env_set("SLURM_STEP_NUM_TASKS") && env_set("SLURM_PROCID");
}

}  // namespace strata::cluster

#include "cluster/data_parallel.h"

#include "core/util/error.h"

#if defined(STRATA_HAVE_MPI)
#include "cluster/mpi_group.h"
#endif
#if defined(STRATA_HAVE_NCCL)
#include "cluster/nccl_group.h"
#endif

namespace strata::cluster {

std::unique_ptr<parallel::ProcessGroup> make_data_parallel_group(MpiComm& comm, torch::Device device) {
  // Decided from comm.size(), the same on every rank, so all ranks take the same branch.
  if (comm.size() == 1) return std::make_unique<parallel::LocalGroup>();
#if defined(STRATA_HAVE_NCCL)
  if (device.is_cuda()) return std::make_unique<NcclGroup>(comm, device);
#endif
#if defined(STRATA_HAVE_MPI)
  return std::make_unique<MpiGroup>(comm);
#else
  fail_run("data-parallel group of {} ranks on {}: strata was built without MPI", comm.size(),
           device.str());
#endif
}

}  // namespace strata::cluster

#pragma once
// The process group for one data-parallel training job.
#include <memory>

#include "cluster/mpi_comm.h"
#include "core/parallel/process_group.h"

namespace strata::cluster {

// Collective over `comm` (the ranks of one data-parallel job). A group of one rank gets a
// LocalGroup (nothing to exchange); CUDA devices get an NcclGroup when NCCL is built in;
// otherwise an MpiGroup, which needs CPU tensors.
std::unique_ptr<parallel::ProcessGroup> make_data_parallel_group(MpiComm& comm, torch::Device device);

}  // namespace strata::cluster

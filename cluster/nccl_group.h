#pragma once
// ProcessGroup over NCCL for CUDA tensors (data-parallel training on GPUs). Built only when
// NCCL is found (STRATA_HAVE_NCCL); make_data_parallel_group picks it when it can. NCCL
// types stay in the source (pimpl), so this header compiles anywhere.
#include <memory>
#include <string>

#include "cluster/mpi_comm.h"
#include "core/parallel/process_group.h"

namespace strata::cluster {

class NcclGroup final : public parallel::ProcessGroup {
 public:
  // Collective over `comm`: its rank 0 creates the NCCL unique id and broadcasts it over
  // MPI, then every rank joins (ncclCommInitRank) on `device`, a CUDA device.
  NcclGroup(MpiComm& comm, torch::Device device);
  ~NcclGroup() override;  // ncclCommFinalize + ncclCommDestroy
  NcclGroup(const NcclGroup&) = delete;
  NcclGroup& operator=(const NcclGroup&) = delete;

  int rank() const override;
  int size() const override;
  std::string backend() const override { return "nccl"; }
  // Contiguous tensors on this group's device. The collective is queued on the current
  // CUDA stream of that device (as torch computes on it), so it is ordered after the
  // kernels that produced the tensor and before those that use it; no host wait.
  void allreduce_sum(torch::Tensor& t) override;
  void broadcast(torch::Tensor& t, int root) override;
  // A one-element allreduce, then the host waits for the stream.
  void barrier() override;

  torch::Device device() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata::cluster

#pragma once
// ProcessGroup over an MPI communicator, for CPU tensors (the data-parallel fallback when
// there is no GPU or no NCCL).
#include <cstddef>
#include <memory>
#include <string>

#include "cluster/mpi_comm.h"
#include "core/parallel/process_group.h"

namespace strata::cluster {

class MpiGroup final : public parallel::ProcessGroup {
 public:
  // Collective over `comm`: the group works on its own duplicate, so its collectives never
  // meet the communicator's messages. One MPI call moves at most `piece_bytes` (the same
  // value on every rank; large tensors take several calls).
  explicit MpiGroup(const MpiComm& comm, std::size_t piece_bytes = kDefaultChunkBytes);

  int rank() const override;
  int size() const override;
  std::string backend() const override { return "mpi"; }
  // CPU, contiguous tensors of float, double, int64, int32, int8 or uint8; summed in place.
  void allreduce_sum(torch::Tensor& t) override;
  // CPU, contiguous tensors of any dtype, the same shape on every rank.
  void broadcast(torch::Tensor& t, int root) override;
  void barrier() override;

  // Collective: the ranks with the same color (>= 0) form one sub-group, ordered by key.
  std::unique_ptr<MpiGroup> split(int color, int key) const;

  const MpiComm& comm() const { return comm_; }

 private:
  struct Owned {};
  MpiGroup(Owned, MpiComm comm, std::size_t piece_bytes);

  MpiComm comm_;
  std::size_t piece_bytes_;
};

}  // namespace strata::cluster

// MpiGroup: in-place collectives on CPU tensors with MPI_Allreduce / MPI_Bcast.
#include "cluster/mpi_group.h"

#include <algorithm>
#include <climits>
#include <stdexcept>

#include "cluster/mpi_comm_impl.h"
#include "core/util/error.h"

namespace strata::cluster {

namespace {

MPI_Datatype mpi_type_of(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat: return MPI_FLOAT;
    case torch::kDouble: return MPI_DOUBLE;
    case torch::kLong: return MPI_INT64_T;
    case torch::kInt: return MPI_INT32_T;
    case torch::kChar: return MPI_INT8_T;
    case torch::kByte: return MPI_UINT8_T;
    default:
      throw RunError(fmt::format(
          "MpiGroup::allreduce_sum: dtype {} has no MPI sum (use float, double, int64, int32, int8, uint8)",
          c10::toString(t.scalar_type())));
  }
}

void check_cpu_contiguous(const torch::Tensor& t, const char* what) {
  if (!t.defined()) throw RunError(fmt::format("MpiGroup::{}: undefined tensor", what));
  if (!t.device().is_cpu())
    throw RunError(fmt::format("MpiGroup::{}: tensor is on {}, expected cpu", what,
                                            t.device().str()));
  if (!t.is_contiguous())
    throw RunError(fmt::format("MpiGroup::{}: tensor must be contiguous", what));
}

// Elements per MPI call: at most piece_bytes and within MPI's int count.
std::int64_t piece_elements(std::size_t piece_bytes, std::size_t element_size) {
  const auto n = static_cast<std::int64_t>(std::max<std::size_t>(1, piece_bytes / element_size));
  return std::min<std::int64_t>(n, INT_MAX);
}

}  // namespace

MpiGroup::MpiGroup(const MpiComm& comm, std::size_t piece_bytes)
    : MpiGroup(Owned{}, comm.duplicate(), piece_bytes) {}

MpiGroup::MpiGroup(Owned, MpiComm comm, std::size_t piece_bytes)
    : comm_(std::move(comm)), piece_bytes_(piece_bytes) {
  if (piece_bytes_ == 0) throw RunError("MpiGroup: piece_bytes must be positive");
}

int MpiGroup::rank() const { return comm_.rank(); }
int MpiGroup::size() const { return comm_.size(); }

void MpiGroup::allreduce_sum(torch::Tensor& t) {
  check_cpu_contiguous(t, "allreduce_sum");
  const MPI_Datatype type = mpi_type_of(t);
  auto* base = static_cast<char*>(t.data_ptr());
  const std::int64_t total = t.numel();
  const std::int64_t step = piece_elements(piece_bytes_, t.element_size());
  for (std::int64_t offset = 0; offset < total; offset += step) {
    const auto n = static_cast<int>(std::min(step, total - offset));
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, base + offset * t.element_size(), n, type, MPI_SUM,
                            comm_.impl().comm),
              "MPI_Allreduce");
  }
}

void MpiGroup::broadcast(torch::Tensor& t, int root) {
  check_cpu_contiguous(t, "broadcast");
  if (root < 0 || root >= size())
    throw RunError(
        fmt::format("MpiGroup::broadcast: root {} is not a rank of a group of {}", root, size()));
  auto* base = static_cast<char*>(t.data_ptr());
  const auto total = static_cast<std::int64_t>(t.nbytes());
  const std::int64_t step = piece_elements(piece_bytes_, 1);
  for (std::int64_t offset = 0; offset < total; offset += step) {
    const auto n = static_cast<int>(std::min(step, total - offset));
    check_mpi(MPI_Bcast(base + offset, n, MPI_BYTE, root, comm_.impl().comm), "MPI_Bcast");
  }
}

void MpiGroup::barrier() { comm_.barrier(); }

std::unique_ptr<MpiGroup> MpiGroup::split(int color, int key) const {
  return std::unique_ptr<MpiGroup>(new MpiGroup(Owned{}, comm_.split(color, key), piece_bytes_));
}

}  // namespace strata::cluster

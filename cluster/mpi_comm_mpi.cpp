// MpiComm: ownership of the MPI handles, node-local ranks, collectives on bytes, split.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "cluster/mpi_comm_impl.h"
#include "core/util/error.h"

namespace strata::cluster {

void check_mpi(int code, std::string_view what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, text, &length);
  fail_run("MPI: {} failed: {}", what, std::string_view(text, static_cast<std::size_t>(length)));
}

MpiComm::Impl::~Impl() {
  // After MPI_Finalize no handle may be touched; the environment frees its own first.
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (data_comm != MPI_COMM_NULL) MPI_Comm_free(&data_comm);
  if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
}

std::unique_ptr<MpiComm::Impl> adopt_communicator(MPI_Comm comm, std::size_t chunk_bytes) {
  auto impl = std::make_unique<MpiComm::Impl>();
  impl->comm = comm;
  impl->chunk_bytes = chunk_bytes;
  // Errors become exceptions with context rather than an abort without one.
  check_mpi(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check_mpi(MPI_Comm_rank(comm, &impl->rank), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(comm, &impl->size), "MPI_Comm_size");
  check_mpi(MPI_Comm_dup(comm, &impl->data_comm), "MPI_Comm_dup");

  MPI_Comm node = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, impl->rank, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)");
  const int rank_code = MPI_Comm_rank(node, &impl->local_rank);
  const int size_code = MPI_Comm_size(node, &impl->local_size);
  MPI_Comm_free(&node);
  check_mpi(rank_code, "MPI_Comm_rank(node)");
  check_mpi(size_code, "MPI_Comm_size(node)");

  void* tag_ub = nullptr;
  int found = 0;
  check_mpi(MPI_Comm_get_attr(comm, MPI_TAG_UB, &tag_ub, &found), "MPI_Comm_get_attr(MPI_TAG_UB)");
  if (found && tag_ub != nullptr) impl->max_tag = *static_cast<int*>(tag_ub);
  return impl;
}

MpiComm::MpiComm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MpiComm::~MpiComm() = default;
MpiComm::MpiComm(MpiComm&&) noexcept = default;
MpiComm& MpiComm::operator=(MpiComm&&) noexcept = default;

int MpiComm::rank() const { return impl_->rank; }
int MpiComm::size() const { return impl_->size; }
int MpiComm::local_rank() const { return impl_->local_rank; }
int MpiComm::local_size() const { return impl_->local_size; }
int MpiComm::max_tag() const { return impl_->max_tag; }
std::size_t MpiComm::chunk_bytes() const { return impl_->chunk_bytes; }

void MpiComm::set_chunk_bytes(std::size_t bytes) {
  if (bytes == 0 || bytes > kMaxChunkBytes)
    throw RunError(
        fmt::format("MpiComm::set_chunk_bytes: {} is outside [1, {}]", bytes, kMaxChunkBytes));
  impl_->chunk_bytes = bytes;
}

WaitPolicy MpiComm::wait_policy() const { return impl_->wait; }
void MpiComm::set_wait_policy(WaitPolicy policy) {
  if (policy.spin.count() < 0 || policy.max_sleep.count() <= 0)
    throw RunError("MpiComm::set_wait_policy: spin must be >= 0 and max_sleep > 0");
  impl_->wait = policy;
}

void MpiComm::broadcast_bytes(std::string& bytes, int root) {
  if (root < 0 || root >= impl_->size)
    throw RunError(
        fmt::format("MpiComm::broadcast_bytes: root {} is not a rank of a group of {}", root, impl_->size));
  // Size and chunk size first, so every rank makes the same sequence of MPI_Bcast calls.
  std::uint64_t header[2] = {bytes.size(), impl_->chunk_bytes};
  check_mpi(MPI_Bcast(header, 2, MPI_UINT64_T, root, impl_->comm), "MPI_Bcast(size)");
  const std::size_t total = header[0];
  const std::size_t chunk = header[1];
  if (impl_->rank != root) bytes.resize(total);
  for (std::size_t offset = 0; offset < total; offset += chunk) {
    const std::size_t n = std::min(chunk, total - offset);
    check_mpi(MPI_Bcast(bytes.data() + offset, static_cast<int>(n), MPI_BYTE, root, impl_->comm),
              "MPI_Bcast(bytes)");
  }
}

void MpiComm::barrier() { check_mpi(MPI_Barrier(impl_->comm), "MPI_Barrier"); }

MpiComm MpiComm::split(int color, int key) const {
  if (color < 0)
    throw RunError(fmt::format("MpiComm::split: color {} must be >= 0", color));
  MPI_Comm sub = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split(impl_->comm, color, key, &sub), "MPI_Comm_split");
  MpiComm out(adopt_communicator(sub, impl_->chunk_bytes));
  out.impl().wait = impl_->wait;
  return out;
}

MpiComm MpiComm::subgroup(const std::vector<int>& ranks, int tag) const {
  const Impl& c = *impl_;
  std::vector<int> sorted = ranks;
  std::sort(sorted.begin(), sorted.end());
  const bool in_range = !sorted.empty() && sorted.front() >= 0 && sorted.back() < c.size;
  const bool distinct = std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
  const bool has_me = std::binary_search(sorted.begin(), sorted.end(), c.rank);
  if (!in_range || !distinct || !has_me)
    throw RunError(fmt::format(
        "MpiComm::subgroup: ranks [{}] must be distinct ranks of a group of {} and include rank {}",
        fmt::join(ranks, ", "), c.size, c.rank));
  if (tag < 0 || tag > c.max_tag)
    throw RunError(fmt::format("MpiComm::subgroup: tag {} is outside [0, {}]", tag, c.max_tag));

  MPI_Group all = MPI_GROUP_NULL;
  MPI_Group members = MPI_GROUP_NULL;
  check_mpi(MPI_Comm_group(c.comm, &all), "MPI_Comm_group");
  const int incl_code = MPI_Group_incl(all, static_cast<int>(ranks.size()), ranks.data(), &members);
  MPI_Group_free(&all);
  check_mpi(incl_code, "MPI_Group_incl");
  MPI_Comm sub = MPI_COMM_NULL;
  const int create_code = MPI_Comm_create_group(c.comm, members, tag, &sub);
  MPI_Group_free(&members);
  check_mpi(create_code, "MPI_Comm_create_group");
  MpiComm out(adopt_communicator(sub, c.chunk_bytes));
  out.impl().wait = c.wait;
  return out;
}

MpiComm MpiComm::duplicate() const {
  MPI_Comm copy = MPI_COMM_NULL;
  check_mpi(MPI_Comm_dup(impl_->comm, &copy), "MPI_Comm_dup");
  MpiComm out(adopt_communicator(copy, impl_->chunk_bytes));
  out.impl().wait = impl_->wait;
  return out;
}

}  // namespace strata::cluster

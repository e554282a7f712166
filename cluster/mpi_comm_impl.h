#pragma once
// MpiComm's MPI handles, shared by the *_mpi.cpp and *_nccl.cpp sources of this library.
// Private to the library: this is the one header that includes <mpi.h>.
#include <mpi.h>

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/mpi_comm.h"

namespace strata::cluster {

struct MpiComm::Impl {
  MPI_Comm comm = MPI_COMM_NULL;       // headers, collectives
  MPI_Comm data_comm = MPI_COMM_NULL;  // chunks of large messages (a duplicate of comm)
  int rank = 0;
  int size = 0;
  int local_rank = 0;
  int local_size = 0;
  int max_tag = 32767;
  std::size_t chunk_bytes = kDefaultChunkBytes;
  WaitPolicy wait;
  // Messages received while this rank was waiting for its own send to complete.
  std::deque<Message> inbox;
  // Messages posted without waiting (post_message): their buffers stay here, at fixed
  // addresses, until MPI has sent them.
  struct Posted {
    std::string header, payload;
    std::vector<MPI_Request> requests;
  };
  std::deque<std::unique_ptr<Posted>> outbox;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl();
};

// Throws RunError naming `what` and MPI's description of `code` unless it is MPI_SUCCESS.
void check_mpi(int code, std::string_view what);

// Wraps `comm` (which this takes over) with node-local ranks, a data duplicate and error
// returns instead of aborts. Collective over `comm`.
std::unique_ptr<MpiComm::Impl> adopt_communicator(MPI_Comm comm, std::size_t chunk_bytes);

}  // namespace strata::cluster

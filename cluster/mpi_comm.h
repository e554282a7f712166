#pragma once
// The MPI environment and communicators, without <mpi.h>: MPI types stay in the *_mpi.cpp
// files (pimpl) so code built without MPI compiles against this header. In such a build
// `launched_under_mpi()` and `built_with_mpi()` still answer, and constructing an
// MpiEnvironment throws.
//
// Threading: MPI is initialised with MPI_THREAD_SERIALIZED (or FUNNELED or MULTIPLE on
// request); a communicator is not thread-safe, so one thread at a time may use it (with
// MULTIPLE, threads may use different communicators at once).
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::cluster {

// Wildcards for try_recv / recv.
inline constexpr int kAnySource = -1;
inline constexpr int kAnyTag = -1;

// Large payloads travel in chunks of at most this many bytes (no single MPI message near
// MPI's 2 GiB count limit, and none over 1 GiB).
inline constexpr std::size_t kDefaultChunkBytes = std::size_t{256} << 20;
inline constexpr std::size_t kMaxChunkBytes = std::size_t{512} << 20;

// One point-to-point message, whole: `bytes` is exactly what the sender passed.
struct Message {
  int source = -1;
  int tag = -1;
  std::string bytes;
};

class MpiComm;

// How a rank waits for messages (recv, recv_for, and a send waiting for its peer): it
// polls busily for `spin` (a reply that comes within it is seen at once: ~1.4 us round
// trip between two ranks of one node), then polls with sleeps that double from 10 us up to
// `max_sleep` (an idle rank leaves the CPU to ranks that compute; a message is then seen
// up to ~max_sleep late, more on a loaded machine). MPI's own blocking calls spin without
// end, which would take a core from computing ranks of the same node.
struct WaitPolicy {
  std::chrono::microseconds spin{1'000};
  std::chrono::microseconds max_sleep{500};
};

// Whether this binary was compiled with MPI support.
bool built_with_mpi();

// RAII for MPI_Init_thread / MPI_Finalize. One per process, created early in main() and
// only when launched_under_mpi() says so, so that a plain `strata run` never touches MPI.
class MpiEnvironment {
 public:
  enum class Threading { funneled, serialized, multiple };

  // Initialises MPI (throws RunError when the library cannot give the requested threading
  // level, or when the binary was built without MPI) and builds the world communicator.
  explicit MpiEnvironment(Threading threading = Threading::serialized);
  // Frees the world communicator and calls MPI_Finalize. When the destructor runs during
  // the unwinding of an exception, MPI_Abort is called instead: finalising while other
  // ranks wait for this one would hang the whole job.
  ~MpiEnvironment();
  MpiEnvironment(const MpiEnvironment&) = delete;
  MpiEnvironment& operator=(const MpiEnvironment&) = delete;

  // True when the process was started by mpirun/mpiexec (OpenMPI, MPICH/Hydra, PMIx) or
  // by srun inside a SLURM job step; false for a plain command line, including a SLURM
  // batch script before srun. Reads only the environment.
  static bool launched_under_mpi();

  // A duplicate of MPI_COMM_WORLD, owned here (freed before MPI_Finalize).
  MpiComm& world();

  // Ends every rank of the job at once (MPI_Abort on MPI_COMM_WORLD).
  [[noreturn]] static void abort(int exit_code);

 private:
  std::unique_ptr<MpiComm> world_;
  int uncaught_at_start_ = 0;
};

// RAII for one communicator (MPI_Comm_free in the destructor). Point-to-point messages of
// any size, a byte broadcast, barrier, split. Every communicator must be destroyed before
// its MpiEnvironment.
//
// Message protocol (internal, described so the coordinator can reason about it): a message
// is a header (total size, chunk size, and the payload itself when it is small) on the
// communicator, followed by chunks of at most chunk_bytes() on a private duplicate of it
// with the same tag. MPI keeps messages of one (source, tag, communicator) in order, so a
// receiver that has matched a header takes exactly that message's chunks.
class MpiComm {
 public:
  struct Impl;  // holds the MPI handles; defined in the MPI sources only
  explicit MpiComm(std::unique_ptr<Impl> impl);
  ~MpiComm();
  MpiComm(MpiComm&&) noexcept;
  MpiComm& operator=(MpiComm&&) noexcept;

  int rank() const;
  int size() const;
  // Rank among the processes of this communicator that share this node's memory
  // (MPI_Comm_split_type shared), and how many of them there are.
  int local_rank() const;
  int local_size() const;

  // Chunk size used for this rank's outgoing messages (the receiver reads it from the
  // header, so ranks may differ) and for broadcast_bytes (the root's value is used).
  // Must be in [1, kMaxChunkBytes].
  std::size_t chunk_bytes() const;
  void set_chunk_bytes(std::size_t bytes);

  // Sends `bytes` to `dest` (0 <= tag <= max_tag()). Returns when the buffer may be reused.
  // Cannot deadlock when two ranks send to each other at once: while its own send is in
  // flight, this call receives whatever arrives and keeps it for try_recv/recv. Sending to
  // oneself works the same way.
  void send_message(int dest, int tag, std::string_view bytes);
  // The same without waiting: the message is on its way when this returns, and completes
  // while this rank makes later calls here (a worker hands in a result and starts its next
  // job without waiting for rank 0 to take it). finish_posted() waits for every such send.
  void post_message(int dest, int tag, std::string bytes);
  void finish_posted();

  // The next message matching (source, tag), or nothing if none has arrived yet. Messages
  // from one source with one tag come in the order they were sent.
  std::optional<Message> try_recv(int source = kAnySource, int tag = kAnyTag);
  // Waits for the next message matching (source, tag), or gives up after `timeout`
  // (for callers that must also watch heartbeats and deadlines).
  std::optional<Message> recv_for(std::chrono::milliseconds timeout, int source = kAnySource,
                                  int tag = kAnyTag);
  // Waits for the next message matching (source, tag).
  Message recv(int source = kAnySource, int tag = kAnyTag);

  WaitPolicy wait_policy() const;
  void set_wait_policy(WaitPolicy policy);

  // Collective: every rank ends with root's bytes (sent in chunks of root's chunk size).
  void broadcast_bytes(std::string& bytes, int root);
  // Collective.
  void barrier();
  // Collective: ranks with the same color (>= 0) form one new communicator, ordered by
  // key, then by rank here.
  MpiComm split(int color, int key) const;
  // Collective over the listed ranks only (MPI_Comm_create_group): the others go on with
  // their work, which is what a dynamically scheduled multi-rank job needs. `ranks` are
  // ranks of this communicator, distinct, including the caller; their order gives the new
  // ranks. Groups being created at the same time must use different tags (0 <= tag <=
  // max_tag()). OpenMPI makes the group with point-to-point messages on this communicator
  // under that tag, which a wildcard receive or probe on it (try_recv, or a send_message
  // receiving while it waits) can take: make groups on a communicator that carries none.
  MpiComm subgroup(const std::vector<int>& ranks, int tag = 0) const;
  // Collective: an independent communicator over the same ranks.
  MpiComm duplicate() const;

  // Largest tag this MPI accepts (at least 32767).
  int max_tag() const;

  // For the MPI and NCCL backends in this library.
  Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata::cluster

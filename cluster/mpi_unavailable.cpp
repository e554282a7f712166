// The MPI layer in a build without MPI: everything links, and the first use says why it
// cannot work. Only MpiEnvironment can create communicators, and it refuses here, so the
// MpiComm members below are never reached at run time.
#if !defined(STRATA_HAVE_MPI)

#include <cstdlib>

#include "cluster/mpi_comm.h"
#include "core/util/error.h"

namespace strata::cluster {

namespace {

[[noreturn]] void no_mpi() {
  fail_run("this strata was built without MPI (configure with -DSTRATA_WITH_MPI=ON to run under mpirun/srun)");
}

}  // namespace

struct MpiComm::Impl {};

MpiEnvironment::MpiEnvironment(Threading) { no_mpi(); }
MpiEnvironment::~MpiEnvironment() = default;
MpiComm& MpiEnvironment::world() { no_mpi(); }
void MpiEnvironment::abort(int exit_code) { std::exit(exit_code); }

MpiComm::MpiComm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MpiComm::~MpiComm() = default;
MpiComm::MpiComm(MpiComm&&) noexcept = default;
MpiComm& MpiComm::operator=(MpiComm&&) noexcept = default;
int MpiComm::rank() const { no_mpi(); }
int MpiComm::size() const { no_mpi(); }
int MpiComm::local_rank() const { no_mpi(); }
int MpiComm::local_size() const { no_mpi(); }
std::size_t MpiComm::chunk_bytes() const { no_mpi(); }
void MpiComm::set_chunk_bytes(std::size_t) { no_mpi(); }
void MpiComm::send_message(int, int, std::string_view) { no_mpi(); }
void MpiComm::post_message(int, int, std::string) { no_mpi(); }
void MpiComm::finish_posted() { no_mpi(); }
std::optional<Message> MpiComm::try_recv(int, int) { no_mpi(); }
std::optional<Message> MpiComm::recv_for(std::chrono::milliseconds, int, int) { no_mpi(); }
Message MpiComm::recv(int, int) { no_mpi(); }
WaitPolicy MpiComm::wait_policy() const { no_mpi(); }
void MpiComm::set_wait_policy(WaitPolicy) { no_mpi(); }
void MpiComm::broadcast_bytes(std::string&, int) { no_mpi(); }
void MpiComm::barrier() { no_mpi(); }
MpiComm MpiComm::split(int, int) const { no_mpi(); }
MpiComm MpiComm::subgroup(const std::vector<int>&, int) const { no_mpi(); }
MpiComm MpiComm::duplicate() const { no_mpi(); }
int MpiComm::max_tag() const { no_mpi(); }

}  // namespace strata::cluster

#endif  // !STRATA_HAVE_MPI

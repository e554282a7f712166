// MpiComm's point-to-point messages: a header, then bounded chunks; sends that keep
// receiving while they wait, so two ranks sending to each other cannot deadlock.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include "cluster/mpi_comm_impl.h"
#include "core/util/error.h"

namespace strata::cluster {

namespace {

// Header: total payload size, then the sender's chunk size (both uint64, native order:
// every rank of a job runs the same binary on the same architecture).
constexpr std::size_t kHeaderBytes = 2 * sizeof(std::uint64_t);
// Payloads up to this size ride inside the header: one MPI message per small message.
constexpr std::size_t kInlineLimit = std::size_t{64} << 10;

// Waiting as the communicator's WaitPolicy says: busy polls first, then growing sleeps.
class Backoff {
 public:
  explicit Backoff(const WaitPolicy& policy)
      : policy_(policy), spin_until_(std::chrono::steady_clock::now() + policy.spin) {}

  void wait() {
    // Spinning polls without yielding: under load, sched_yield hands the core to other
    // processes for a whole time slice, which made replies milliseconds late.
    if (std::chrono::steady_clock::now() < spin_until_) return;
    std::this_thread::sleep_for(sleep_);
    sleep_ = std::min(sleep_ * 2, policy_.max_sleep);
  }

 private:
  WaitPolicy policy_;
  std::chrono::steady_clock::time_point spin_until_;
  std::chrono::microseconds sleep_{10};
};

void check_peer(const MpiComm::Impl& c, int rank, bool allow_any, const char* what) {
  if (allow_any && rank == kAnySource) return;
  if (rank < 0 || rank >= c.size)
    throw RunError(
        fmt::format("MpiComm::{}: rank {} is not in a group of {}", what, rank, c.size));
}

void check_tag(const MpiComm::Impl& c, int tag, bool allow_any, const char* what) {
  if (allow_any && tag == kAnyTag) return;
  if (tag < 0 || tag > c.max_tag)
    throw RunError(
        fmt::format("MpiComm::{}: tag {} is outside [0, {}]", what, tag, c.max_tag));
}

int mpi_source(int source) { return source == kAnySource ? MPI_ANY_SOURCE : source; }
int mpi_tag(int tag) { return tag == kAnyTag ? MPI_ANY_TAG : tag; }

bool matches(const Message& m, int source, int tag) {
  return (source == kAnySource || m.source == source) && (tag == kAnyTag || m.tag == tag);
}

// Takes the first kept message that matches, oldest first.
std::optional<Message> take_from_inbox(MpiComm::Impl& c, int source, int tag) {
  auto it = std::find_if(c.inbox.begin(), c.inbox.end(),
                         [&](const Message& m) { return matches(m, source, tag); });
  if (it == c.inbox.end()) return std::nullopt;
  Message m = std::move(*it);
  c.inbox.erase(it);
  return m;
}

// Receives the message whose header was matched by a probe: the header, then its chunks.
Message receive_matched(MpiComm::Impl& c, MPI_Message matched, const MPI_Status& status) {
  int count = 0;
  check_mpi(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  Message m{status.MPI_SOURCE, status.MPI_TAG, {}};
  std::string header(static_cast<std::size_t>(count), '\0');
  check_mpi(MPI_Mrecv(header.data(), count, MPI_BYTE, &matched, MPI_STATUS_IGNORE), "MPI_Mrecv");
  if (header.size() < kHeaderBytes)
    fail_run("MPI: message from rank {} with tag {} has a {}-byte header; expected at least {}",
             m.source, m.tag, header.size(), kHeaderBytes);
  std::uint64_t total = 0;
  std::uint64_t chunk = 0;
  std::memcpy(&total, header.data(), sizeof total);
  std::memcpy(&chunk, header.data() + sizeof total, sizeof chunk);

  if (header.size() == kHeaderBytes + total) {  // small: the payload came inside the header
    m.bytes = header.substr(kHeaderBytes);
    return m;
  }
  if (header.size() != kHeaderBytes || chunk == 0 || chunk > kMaxChunkBytes)
    fail_run("MPI: malformed message header from rank {} with tag {} (size {}, total {}, chunk {})",
             m.source, m.tag, header.size(), total, chunk);

  m.bytes.resize(total);
  std::vector<MPI_Request> requests;
  requests.reserve((total + chunk - 1) / chunk);
  for (std::uint64_t offset = 0; offset < total; offset += chunk) {
    const auto n = static_cast<int>(std::min<std::uint64_t>(chunk, total - offset));
    requests.push_back(MPI_REQUEST_NULL);
    check_mpi(MPI_Irecv(m.bytes.data() + offset, n, MPI_BYTE, m.source, m.tag, c.data_comm,
                        &requests.back()),
              "MPI_Irecv(chunk)");
  }
  // The sender posted every chunk before its header could match, so these complete.
  check_mpi(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE),
            "MPI_Waitall(chunks)");
  return m;
}

std::optional<Message> receive_if_arrived(MpiComm::Impl& c, int source, int tag) {
  int flag = 0;
  MPI_Message matched = MPI_MESSAGE_NULL;
  MPI_Status status;
  check_mpi(MPI_Improbe(mpi_source(source), mpi_tag(tag), c.comm, &flag, &matched, &status),
            "MPI_Improbe");
  if (!flag) return std::nullopt;
  return receive_matched(c, matched, status);
}

// Completes `requests` (this rank's sends), receiving into the inbox whatever arrives
// meanwhile: a peer that is itself blocked sending to us then sees its send complete.
void wait_receiving(MpiComm::Impl& c, std::vector<MPI_Request>& requests) {
  try {
    Backoff backoff(c.wait);
    for (;;) {
      int done = 0;
      check_mpi(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done,
                            MPI_STATUSES_IGNORE),
                "MPI_Testall(send)");
      if (done) return;
      if (auto m = receive_if_arrived(c, kAnySource, kAnyTag)) {
        c.inbox.push_back(std::move(*m));
        backoff = Backoff(c.wait);
      } else {
        backoff.wait();
      }
    }
  } catch (const std::exception& e) {
    // Sends still in flight point into the caller's buffer, which is about to go away:
    // the only safe way out is to end the job.
    std::fprintf(stderr, "strata: fatal MPI error while sending (rank %d): %s\n", c.rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
    throw;
  }
}

}  // namespace

namespace {

// Posts the sends of one message: its chunks (from `bytes`, which must outlive them), then
// its header (kept in `out`, with the small payload inside it).
void post_sends(MpiComm::Impl& c, int dest, int tag, std::string_view bytes, MpiComm::Impl::Posted& out) {
  const std::uint64_t total = bytes.size();
  const std::uint64_t chunk = c.chunk_bytes;
  const bool inline_payload = bytes.size() <= std::min(c.chunk_bytes, kInlineLimit);

  out.header.assign(kHeaderBytes, '\0');
  std::memcpy(out.header.data(), &total, sizeof total);
  std::memcpy(out.header.data() + sizeof total, &chunk, sizeof chunk);
  if (inline_payload) out.header.append(bytes);

  out.requests.reserve(inline_payload ? 1 : 1 + (total + chunk - 1) / chunk);
  // Chunks are posted before the header so they are all in flight once a receiver
  // matches the header.
  if (!inline_payload) {
    for (std::uint64_t offset = 0; offset < total; offset += chunk) {
      const auto n = static_cast<int>(std::min<std::uint64_t>(chunk, total - offset));
      out.requests.push_back(MPI_REQUEST_NULL);
      check_mpi(MPI_Isend(bytes.data() + offset, n, MPI_BYTE, dest, tag, c.data_comm, &out.requests.back()),
                "MPI_Isend(chunk)");
    }
  }
  out.requests.push_back(MPI_REQUEST_NULL);
  check_mpi(MPI_Isend(out.header.data(), static_cast<int>(out.header.size()), MPI_BYTE, dest, tag, c.comm,
                      &out.requests.back()),
            "MPI_Isend(header)");
}

// Lets go of the posted messages MPI has finished sending.
void progress_posted(MpiComm::Impl& c) {
  for (auto it = c.outbox.begin(); it != c.outbox.end();) {
    int done = 0;
    auto& r = (*it)->requests;
    check_mpi(MPI_Testall(static_cast<int>(r.size()), r.data(), &done, MPI_STATUSES_IGNORE), "MPI_Testall(posted)");
    it = done ? c.outbox.erase(it) : std::next(it);
  }
}

}  // namespace

void MpiComm::send_message(int dest, int tag, std::string_view bytes) {
  Impl& c = *impl_;
  check_peer(c, dest, false, "send_message");
  check_tag(c, tag, false, "send_message");
  Impl::Posted sent;
  post_sends(c, dest, tag, bytes, sent);
  wait_receiving(c, sent.requests);
  progress_posted(c);
}

void MpiComm::post_message(int dest, int tag, std::string bytes) {
  Impl& c = *impl_;
  check_peer(c, dest, false, "post_message");
  check_tag(c, tag, false, "post_message");
  auto posted = std::make_unique<Impl::Posted>();
  posted->payload = std::move(bytes);
  post_sends(c, dest, tag, posted->payload, *posted);
  c.outbox.push_back(std::move(posted));
  progress_posted(c);
}

void MpiComm::finish_posted() {
  Impl& c = *impl_;
  for (auto& posted : c.outbox) wait_receiving(c, posted->requests);
  c.outbox.clear();
}

std::optional<Message> MpiComm::try_recv(int source, int tag) {
  Impl& c = *impl_;
  check_peer(c, source, true, "try_recv");
  check_tag(c, tag, true, "try_recv");
  if (!c.outbox.empty()) progress_posted(c);
  if (auto m = take_from_inbox(c, source, tag)) return m;
  return receive_if_arrived(c, source, tag);
}

std::optional<Message> MpiComm::recv_for(std::chrono::milliseconds timeout, int source, int tag) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Backoff backoff(impl_->wait);
  for (;;) {
    if (auto m = try_recv(source, tag)) return m;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    backoff.wait();
  }
}

Message MpiComm::recv(int source, int tag) {
  // Polling with backoff rather than a blocking probe: see WaitPolicy.
  Backoff backoff(impl_->wait);
  for (;;) {
    if (auto m = try_recv(source, tag)) return std::move(*m);
    backoff.wait();
  }
}

}  // namespace strata::cluster

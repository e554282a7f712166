#include "orchestrator/mpi_executor.h"

#include <cstring>

#include "core/util/error.h"
#include "core/util/log.h"
#include "orchestrator/heartbeat.h"

namespace strata {

namespace {

// Messages are length-prefixed fields.
void put_field(std::string& out, std::string_view s) {
  const std::uint64_t n = s.size();
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out.append(s);
}

struct FieldReader {
  std::string_view in;
  std::size_t pos = 0;
  std::string_view next() {
    std::uint64_t n = 0;
    if (pos + sizeof n > in.size()) fail_run("truncated message from another rank");
    std::memcpy(&n, in.data() + pos, sizeof n);
    pos += sizeof n;
    if (pos + n > in.size()) fail_run("truncated message from another rank");
    auto s = in.substr(pos, n);
    pos += n;
    return s;
  }
};

std::string encode_outcome(const Outcome& o) {
  std::string out;
  put_field(out, o.object);
  put_field(out, o.ok ? "1" : "0");
  put_field(out, o.input_error ? "1" : "0");
  put_field(out, std::to_string(o.seconds));
  put_field(out, o.error);
  put_field(out, o.ok ? o.payload.serialize() : std::string());
  return out;
}

Outcome decode_outcome(const cluster::Message& m) {
  FieldReader r{m.bytes};
  Outcome o;
  o.object = std::string(r.next());
  o.ok = r.next() == "1";
  o.input_error = r.next() == "1";
  o.seconds = std::stod(std::string(r.next()));
  o.error = std::string(r.next());
  const auto payload = r.next();
  if (o.ok) o.payload = workers::Payload::deserialize(payload);
  o.rank = m.source;
  return o;
}

}  // namespace

MpiExecutor::MpiExecutor(cluster::MpiComm& world, double job_timeout_s, double heartbeat_s, double heartbeat_timeout_s)
    : world_(world), timeout_s_(job_timeout_s), heartbeat_s_(heartbeat_s), heartbeat_timeout_s_(heartbeat_timeout_s) {
  for (int r = 1; r < world_.size(); ++r) idle_.insert(r);
}

MpiExecutor::~MpiExecutor() { stop_workers(); }

void MpiExecutor::stop_workers() {
  for (int r = 1; r < world_.size(); ++r) {
    if (lost_.count(r)) continue;  // a hung worker would not read it; mpirun ends it with us
    world_.send_message(r, mpi_tags::stop, "");
  }
}

std::string MpiExecutor::where() const { return fmt::format("{} MPI worker ranks", world_.size() - 1); }

// The idle rank that already holds most of the job's inputs, or above all the job's model
// (its affinity; ties: the lowest rank), and not one where this job failed before when
// another is idle.
int MpiExecutor::pick_rank(const workers::JobRequest& r) const {
  std::set<int> candidates = idle_;
  if (auto f = failed_on_.find(r.object); f != failed_on_.end()) {
    std::set<int> others;
    for (int rank : idle_)
      if (!f->second.count(rank)) others.insert(rank);
    if (!others.empty()) candidates = others;
  }
  int best = *candidates.begin();
  std::size_t best_held = 0;
  for (int rank : candidates) {
    std::size_t held = 0;
    auto it = held_.find(rank);
    if (it != held_.end())
      for (const auto& in : r.inputs) held += it->second.count(in) * (in == "/corpus" ? 1 : 100);
    if (!r.affinity.empty()) {
      // Loading a model costs more than shipping inputs; a rank that holds none loses nothing.
      auto a = affinity_.find(rank);
      held += a == affinity_.end() ? 50 : a->second == r.affinity ? 10000 : 0;
    }
    if (held > best_held) best = rank, best_held = held;
  }
  return best;
}

// A retry waits for a rank where the job has not failed yet, while such a rank is busy.
bool MpiExecutor::can_take(const workers::JobRequest& r) const {
  auto f = failed_on_.find(r.object);
  if (f == failed_on_.end()) return true;
  for (int rank : idle_)
    if (!f->second.count(rank)) return true;
  for (const auto& [rank, job] : running_)
    if (!f->second.count(rank)) return false;
  return true;
}

int MpiExecutor::submit(const workers::JobRequest& r, const InputLoader& load) {
  if (idle_.empty()) fail_run("no idle worker rank");
  const int rank = pick_rank(r);
  std::string msg;
  put_field(msg, r.serialize());
  auto& held = held_[rank];
  for (const auto& in : r.inputs) {
    if (held.count(in)) continue;
    put_field(msg, in);
    put_field(msg, load(in).serialize());
    held.insert(in);
  }
  world_.send_message(rank, mpi_tags::job, msg);
  if (!r.affinity.empty()) affinity_[rank] = r.affinity;
  idle_.erase(rank);
  const auto now = std::chrono::steady_clock::now();
  running_[rank] = {r.object, now, now};
  return rank;
}

Outcome MpiExecutor::wait() {
  while (true) {
    // Whatever has arrived first: heartbeats that queued while this rank was busy (writing
    // a large result) must not read as silence.
    while (auto m = world_.try_recv(cluster::kAnySource, cluster::kAnyTag))
      if (auto o = take(*m)) return std::move(*o);
    if (auto o = overdue()) return std::move(*o);
    if (auto m = world_.recv_for(std::chrono::milliseconds(250), cluster::kAnySource, cluster::kAnyTag))
      if (auto o = take(*m)) return std::move(*o);
  }
}

// A heartbeat is noted; a result ends its job.
std::optional<Outcome> MpiExecutor::take(const cluster::Message& m) {
  if (m.tag == mpi_tags::heartbeat) {
    auto it = running_.find(m.source);
    if (it == running_.end()) return std::nullopt;  // from a rank given up
    it->second.heard = std::chrono::steady_clock::now();
    if (listener_) listener_(m.source);
    return std::nullopt;
  }
  if (m.tag != mpi_tags::result) fail_run("unexpected message (tag {}) from rank {}", m.tag, m.source);
  if (lost_.count(m.source)) {
    // Its job was given up and may have run again elsewhere; the rank stays out.
    log::warn("rank {} sent a result after it was given up; ignored", m.source);
    return std::nullopt;
  }
  running_.erase(m.source);
  idle_.insert(m.source);
  auto o = decode_outcome(m);
  if (!o.ok) failed_on_[o.object].insert(o.rank);
  return o;
}

// The first running job past its time, or whose rank has gone silent.
std::optional<Outcome> MpiExecutor::overdue() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = running_.begin(); it != running_.end(); ++it) {
    const int rank = it->first;
    const double ran = std::chrono::duration<double>(now - it->second.since).count();
    const double silent = std::chrono::duration<double>(now - it->second.heard).count();
    std::string why;
    if (timeout_s_ > 0 && ran >= timeout_s_)
      why = fmt::format("no result after {:.0f} s (job_timeout_s)", ran);
    else if (heartbeat_s_ > 0 && heartbeat_timeout_s_ > 0 && silent >= heartbeat_timeout_s_)
      why = fmt::format("rank {} silent for {:.1f} s: no heartbeat within heartbeat_timeout_s = {}", rank, silent,
                        heartbeat_timeout_s_);
    else
      continue;
    Outcome o;
    o.object = it->second.object;
    o.rank = rank;
    o.seconds = ran;
    o.rank_lost = true;
    o.error = fmt::format("{}; rank {} gets no more work", why, rank);
    lost_.insert(rank);
    running_.erase(it);
    return o;
  }
  return std::nullopt;
}


void worker_loop(cluster::MpiComm& world, torch::Device device, double heartbeat_s) {
  workers::Inputs held;
  while (true) {
    auto m = world.recv(0, cluster::kAnyTag);
    if (m.tag == mpi_tags::stop) return;
    if (m.tag != mpi_tags::job) continue;
    std::string reply;
    {
      // From unpacking the inputs until the reply is ready; the reply goes after it stopped.
      const Heartbeat beat(world, 0, mpi_tags::heartbeat, heartbeat_s);
      FieldReader r{m.bytes};
      const auto request = workers::JobRequest::deserialize(std::string(r.next()));
      while (r.pos < r.in.size()) {
        std::string object(r.next());
        held[object] = workers::Payload::deserialize(r.next());
      }
      reply = encode_outcome(run_here(request, held, device));
    }
    world.send_message(0, mpi_tags::result, reply);
  }
}

}  // namespace strata

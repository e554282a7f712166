#include "orchestrator/mpi_executor.h"

#include <cstring>

#include "core/util/error.h"
#include "core/util/log.h"

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

MpiExecutor::MpiExecutor(cluster::MpiComm& world, double job_timeout_s) : world_(world), timeout_s_(job_timeout_s) {
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

// The idle rank that already holds most of the job's inputs (ties: the lowest rank), and
// not one where this job failed before when another is idle.
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

void MpiExecutor::submit(const workers::JobRequest& r, const InputLoader& load) {
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
  idle_.erase(rank);
  running_[rank] = {r.object, std::chrono::steady_clock::now()};
}

Outcome MpiExecutor::wait() {
  while (true) {
    auto m = world_.recv_for(std::chrono::milliseconds(500), cluster::kAnySource, mpi_tags::result);
    if (m) {
      running_.erase(m->source);
      idle_.insert(m->source);
      auto o = decode_outcome(*m);
      if (!o.ok) failed_on_[o.object].insert(o.rank);
      return o;
    }
    if (timeout_s_ <= 0) continue;
    for (auto it = running_.begin(); it != running_.end(); ++it) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.since).count();
      if (secs < timeout_s_) continue;
      Outcome o;
      o.object = it->second.object;
      o.rank = it->first;
      o.seconds = secs;
      o.error = fmt::format("no result after {:.0f} s (job_timeout_s); rank {} gets no more work", secs, it->first);
      lost_.insert(it->first);
      running_.erase(it);
      return o;
    }
  }
}

void worker_loop(cluster::MpiComm& world, torch::Device device) {
  workers::Inputs held;
  while (true) {
    auto m = world.recv(0, cluster::kAnyTag);
    if (m.tag == mpi_tags::stop) return;
    if (m.tag != mpi_tags::job) continue;
    FieldReader r{m.bytes};
    const auto request = workers::JobRequest::deserialize(std::string(r.next()));
    while (r.pos < r.in.size()) {
      std::string object(r.next());
      held[object] = workers::Payload::deserialize(r.next());
    }
    const Outcome o = run_here(request, held, device);
    world.send_message(0, mpi_tags::result, encode_outcome(o));
  }
}

}  // namespace strata

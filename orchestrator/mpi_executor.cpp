#include "orchestrator/mpi_executor.h"

#include <algorithm>
#include <cstring>

#include <fmt/ranges.h>

#include "cluster/data_parallel.h"
#include "core/util/error.h"
#include "core/util/log.h"
#include "core/util/wire.h"
#include "orchestrator/heartbeat.h"
#include "orchestrator/job_messages.h"

namespace strata {

MpiExecutor::MpiExecutor(cluster::MpiComm& world, double job_timeout_s, double heartbeat_s, double heartbeat_timeout_s)
    : world_(world),
      timeout_s_(job_timeout_s),
      heartbeat_s_(heartbeat_s),
      heartbeat_timeout_s_(heartbeat_timeout_s),
      placement_(world.size() - 1, kQueueBelowS) {}

MpiExecutor::~MpiExecutor() { stop_workers(); }

void MpiExecutor::stop_workers() {
  for (int r = 1; r < world_.size(); ++r) {
    if (placement_.is_lost(r)) continue;  // a hung worker would not read it; mpirun ends it with us
    world_.send_message(r, mpi_tags::stop, "");
  }
}

std::string MpiExecutor::where() const { return fmt::format("{} MPI worker ranks", world_.size() - 1); }

std::size_t MpiExecutor::ranks_for(const workers::JobRequest& r) const { return placement_.ranks_for(r); }

bool MpiExecutor::can_take(const workers::JobRequest& r) const { return placement_.can_take(r); }

void MpiExecutor::release(const std::string& object) { placement_.release(object); }

bool MpiExecutor::has_room(const workers::JobRequest& r) const { return placement_.has_room(r); }

void MpiExecutor::send_job(int rank, const workers::JobRequest& r, const std::string& request,
                           const std::string& group, const InputLoader& load) {
  JobMessage msg{request, group, placement_.take_drops(rank), {}};
  // The objects this rank may forget, then the inputs it lacks, each with its payload.
  for (const auto& [role, in] : r.inputs) {
    if (placement_.holds(rank, in)) continue;
    msg.inputs.emplace_back(in, load(in));
    placement_.hold(rank, in);
  }
  // Posted, not waited for: a busy worker takes a queued job only when its running one ends,
  // and one that froze never does.
  world_.post_message(rank, mpi_tags::job, msg.encode());
}

int MpiExecutor::submit(const workers::JobRequest& r, const InputLoader& load) {
  const std::size_t count = ranks_for(r);
  const auto members = placement_.pick(r, count);
  if (members.size() < count) {
    const auto rank = count == 1 ? placement_.queue_rank(r) : std::nullopt;
    if (!rank) fail_run("{} idle worker ranks; job {} needs {}", placement_.idle_count(), r.object, count);
    send_job(*rank, r, r.serialize(), "", load);
    placement_.queued(*rank, r);
    const auto now = std::chrono::steady_clock::now();
    queued_[*rank] = {r.object, r.kind, *rank, now, now};
    return *rank;
  }
  std::string group;  // empty: a single-rank job
  if (members.size() > 1) {
    // Groups forming at the same time need distinct tags; at most (ranks - 1) / 2 do.
    group_tag_ = group_tag_ % world_.max_tag() + 1;
    group = nlohmann::json{{"members", members}, {"tag", group_tag_}}.dump();
    groups_[members.front()] = Group{members, {}};
  }
  const std::string request = r.serialize();
  const auto now = std::chrono::steady_clock::now();
  for (int rank : members) {
    send_job(rank, r, request, group, load);
    placement_.started(rank, r, members.size() > 1);
    running_[rank] = {r.object, r.kind, members.front(), now, now};
  }
  return members.front();
}

Outcome MpiExecutor::wait() {
  if (!unrun_.empty()) {
    Outcome o = std::move(unrun_.front());
    unrun_.pop_front();
    return o;
  }
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
  if (placement_.is_lost(m.source)) {
    // Its job was given up and may have run again elsewhere; the rank stays out.
    log::warn("rank {} sent a result after it was given up; ignored", m.source);
    return std::nullopt;
  }
  auto o = decode_outcome(m.bytes, m.source);
  const auto it = running_.find(m.source);
  const int leader = it == running_.end() ? m.source : it->second.leader;
  if (it != running_.end()) running_.erase(it);
  placement_.finished(m.source, o.seconds);
  if (auto q = queued_.find(m.source); q != queued_.end()) {
    // The queued job starts now, on the worker's side.
    q->second.since = q->second.heard = std::chrono::steady_clock::now();
    running_[m.source] = q->second;
    queued_.erase(q);
  }
  const auto g = groups_.find(leader);
  if (g == groups_.end()) {
    if (!o.ok) placement_.failed(o.object, o.rank);
    return o;
  }
  g->second.outcomes.emplace(m.source, std::move(o));
  if (g->second.outcomes.size() < g->second.members.size()) return std::nullopt;
  auto job = group_outcome(g->second);
  groups_.erase(g);
  return job;
}

// A job on several ranks succeeded when every member did; its result is the leader's. A
// failure reports (and a retry avoids) the members that failed themselves, not those that
// stopped because of them.
Outcome MpiExecutor::group_outcome(const Group& g) {
  std::vector<int> culprits;
  for (int rank : g.members) {
    const Outcome& m = g.outcomes.at(rank);
    if (!m.ok && !m.group_failure) culprits.push_back(rank);
  }
  if (culprits.empty())  // none said so: every member that failed is one
    for (int rank : g.members)
      if (!g.outcomes.at(rank).ok) culprits.push_back(rank);
  Outcome o = g.outcomes.at(g.members.front());
  o.rank = g.members.front();
  o.ranks = static_cast<int>(g.members.size());
  if (culprits.empty()) return o;
  std::vector<std::pair<std::string, std::vector<int>>> errors;  // each message once, with its ranks
  o.input_error = false;
  for (int rank : culprits) {
    const Outcome& m = g.outcomes.at(rank);
    placement_.failed(m.object, rank);
    o.input_error = o.input_error || m.input_error;
    auto e = std::find_if(errors.begin(), errors.end(), [&](const auto& x) { return x.first == m.error; });
    if (e == errors.end()) errors.push_back({m.error, {rank}});
    else e->second.push_back(rank);
  }
  o.ok = false;
  o.group_failure = false;
  o.payload = {};
  if (o.input_error) {
    o.error = errors.front().first;  // bad input is the same on every member
    return o;
  }
  std::vector<std::string> parts;
  for (const auto& [error, ranks] : errors)
    parts.push_back(fmt::format("rank{} {}: {}", ranks.size() > 1 ? "s" : "", fmt::join(ranks, ", "), error));
  o.error = fmt::format("{}", fmt::join(parts, "; "));
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
    o.rank = it->second.leader;
    o.seconds = ran;
    o.rank_lost = true;
    std::vector<int> given_up{rank};
    if (const auto g = groups_.find(it->second.leader); g != groups_.end()) {
      // The members still running wait in a collective for the one that stopped.
      given_up.clear();
      for (int member : g->second.members)
        if (running_.count(member)) given_up.push_back(member);
      o.ranks = static_cast<int>(g->second.members.size());
      groups_.erase(g);
    }
    o.error = given_up.size() == 1 ? fmt::format("{}; rank {} gets no more work", why, rank)
                                   : fmt::format("{}; ranks {} (its data-parallel group) get no more work", why,
                                                 fmt::join(given_up, ", "));
    for (int r : given_up) {
      placement_.lost(r);
      running_.erase(r);
      if (auto q = queued_.find(r); q != queued_.end()) {
        Outcome unrun;
        unrun.object = q->second.object;
        unrun.rank = r;
        unrun.not_run = true;
        unrun.error = fmt::format("queued on rank {}, which was given up", r);
        unrun_.push_back(std::move(unrun));
        queued_.erase(q);
      }
    }
    return o;
  }
  return std::nullopt;
}


namespace {

// One member of a job on several ranks: the members form a communicator of their own (with
// the tag the coordinator gave this group) and a data-parallel group over it, and run the
// job together. Group rank 0's outcome carries the result, the others' none (run_train).
Outcome run_in_group(const cluster::MpiComm& workers, const nlohmann::json& group, const workers::JobRequest& request,
                     const workers::Inputs& held, torch::Device device) {
  const auto members = group.at("members").get<std::vector<int>>();  // world ranks
  std::vector<int> ranks;
  for (int m : members) ranks.push_back(m - 1);
  try {
    cluster::MpiComm comm = workers.subgroup(ranks, group.at("tag").get<int>());
    const auto together = cluster::make_data_parallel_group(comm, device);
    return run_here(request, held, device, together.get());
  } catch (const std::exception& e) {
    // The other members may wait for this one in the group's making: the job timeout ends them.
    Outcome o;
    o.object = request.object;
    o.error = fmt::format("forming the data-parallel group of ranks {} failed: {}", fmt::join(members, ", "), e.what());
    return o;
  }
}

}  // namespace

void worker_loop(cluster::MpiComm& world, const cluster::MpiComm& workers, torch::Device device, double heartbeat_s) {
  workers::Inputs held;
  Heartbeat heartbeat(world, 0, mpi_tags::heartbeat, heartbeat_s);
  while (true) {
    auto m = world.recv(0, cluster::kAnyTag);
    if (m.tag == mpi_tags::stop) break;
    if (m.tag != mpi_tags::job) continue;
    std::string reply;
    {
      // From unpacking the inputs until the reply is ready; the reply goes after it stopped.
      const Heartbeat::Scope beating(heartbeat);
      auto msg = JobMessage::decode(m.bytes, "job message from rank 0");
      const auto request = workers::JobRequest::deserialize(msg.request);
      const auto& group = msg.group;
      for (const auto& object : msg.drops) held.erase(object);
      for (auto& [object, payload] : msg.inputs) held[object] = std::move(payload);
      auto outcome = group.empty() ? run_here(request, held, device)
                                   : run_in_group(workers, workers::parse_message_json(group, "job group"), request, held, device);
      outcome.inputs_held = static_cast<int>(held.size());
      reply = encode_outcome(outcome);
    }
    // Not waiting for rank 0 to take it: the next job may already be here.
    world.post_message(0, mpi_tags::result, std::move(reply));
  }
  world.finish_posted();
}

}  // namespace strata

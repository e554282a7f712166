#pragma once
// Jobs on MPI worker ranks. Rank 0 coordinates: it hands each idle worker the costliest
// ready job, preferring a worker that already holds the job's inputs (a model's embeddings
// stay where they were sent), ships only the inputs the worker lacks, and receives the
// result payload; it alone writes the archive. Workers ask for nothing: they run what they
// are given until told to stop, and while a job runs they send heartbeats, so that a rank
// gone silent (a frozen process, a lost node) is told apart from a job that takes long.
//
// A job that asks for several ranks (a data-parallel train job) waits until that many are
// idle, then goes to all of them with the list of members: they form a communicator of their
// own and run it together; the first member sends the result, the others a short outcome
// without payload, and the job has ended once all of them have reported. Given up (timeout,
// silence), it takes all members still running with it: they wait in a collective for the
// one that stopped.
//
// When no worker is idle, a short job (of a kind whose every job so far took under
// kQueueBelowS) may be sent to a worker running another short one: it waits in the worker's
// receive queue and starts the moment the running job ends, without a round trip to rank 0.
// For jobs of a few milliseconds that round trip is most of the overhead; a long job is never
// queued, so no job waits behind one.
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster/mpi_comm.h"
#include "orchestrator/executor.h"
#include "orchestrator/rank_placement.h"

namespace strata {

namespace mpi_tags {
inline constexpr int job = 11, result = 12, stop = 13, heartbeat = 14;
}

class MpiExecutor final : public Executor {
 public:
  // `job_timeout_s` > 0: a job running longer is reported failed and its rank gets no more
  // work. The same happens to a job whose rank sends no heartbeat for `heartbeat_timeout_s`
  // (workers send one every `heartbeat_s`; 0: none, and no silence is noticed).
  MpiExecutor(cluster::MpiComm& world, double job_timeout_s, double heartbeat_s = 0, double heartbeat_timeout_s = 0);
  ~MpiExecutor() override;  // tells every worker to stop
  MpiExecutor(const MpiExecutor&) = delete;
  MpiExecutor& operator=(const MpiExecutor&) = delete;

  static constexpr double kQueueBelowS = 0.25;

  std::size_t capacity() const override { return placement_.idle_count(); }
  bool has_room(const workers::JobRequest& r) const override;
  std::size_t ranks_for(const workers::JobRequest& r) const override;
  bool can_take(const workers::JobRequest& r) const override;
  int submit(const workers::JobRequest& r, const InputLoader& load) override;
  Outcome wait() override;
  std::string where() const override;
  double heartbeat_s() const override { return heartbeat_s_; }
  void on_heartbeat(HeartbeatListener listener) override { listener_ = std::move(listener); }
  void release(const std::string& object) override;
  // Whether some rank was given up: it will not read its stop message, so MPI_Finalize
  // would wait for it forever.
  bool lost_ranks() const { return placement_.any_lost(); }
  // Whether every worker rank was given up (e.g. a network cut through a data-parallel
  // group): the scheduler then stops with jobs it could not run.
  bool all_ranks_lost() const { return placement_.all_lost(); }

 private:
  struct Running {
    std::string object, kind;
    int leader = 0;  // the job's first rank (a single-rank job: this one)
    std::chrono::steady_clock::time_point since, heard;
  };
  struct Group {  // a job on several ranks
    std::vector<int> members;          // the first is its leader
    std::map<int, Outcome> outcomes;   // of the members that have reported
  };
  std::optional<Outcome> take(const cluster::Message& m);
  Outcome group_outcome(const Group& g);
  std::optional<Outcome> overdue();
  void send_job(int rank, const workers::JobRequest& r, const std::string& request, const std::string& group,
                const InputLoader& load);
  void stop_workers();

  cluster::MpiComm& world_;
  double timeout_s_, heartbeat_s_, heartbeat_timeout_s_;
  HeartbeatListener listener_;
  RankPlacement placement_;  // which rank does what, holds what, failed what
  std::map<int, Running> running_;
  std::map<int, Running> queued_;  // a job sent to a busy rank, behind the one it runs
  std::deque<Outcome> unrun_;      // queued jobs of ranks given up, to hand back
  std::map<int, Group> groups_;  // by leader
  int group_tag_ = 0;            // the last tag a group's communicator was made with
};

// A worker rank's loop: receive a job (and the inputs it lacks), run it (alone, or with the
// other members of its group), send the outcome; while the job runs, a heartbeat goes to
// rank 0 every `heartbeat_s` (0: none). Heartbeats during a group's collectives need MPI
// initialised with MPI_THREAD_MULTIPLE. `workers`: the communicator of the worker ranks
// alone (world ranks 1, 2, ... in order), on which the groups are made; no message travels
// on it, so no wildcard receive can take the messages that making a group exchanges.
void worker_loop(cluster::MpiComm& world, const cluster::MpiComm& workers, torch::Device device, double heartbeat_s);

}  // namespace strata

#pragma once
// Jobs on MPI worker ranks. Rank 0 coordinates: it hands each idle worker the costliest
// ready job, preferring a worker that already holds the job's inputs (a model's embeddings
// stay where they were sent), ships only the inputs the worker lacks, and receives the
// result payload; it alone writes the archive. Workers ask for nothing: they run what they
// are given until told to stop, and while a job runs they send heartbeats, so that a rank
// gone silent (a frozen process, a lost node) is told apart from a job that takes long.
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "cluster/mpi_comm.h"
#include "orchestrator/executor.h"

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

  std::size_t capacity() const override { return idle_.size(); }
  bool can_take(const workers::JobRequest& r) const override;
  int submit(const workers::JobRequest& r, const InputLoader& load) override;
  Outcome wait() override;
  std::string where() const override;
  double heartbeat_s() const override { return heartbeat_s_; }
  void on_heartbeat(HeartbeatListener listener) override { listener_ = std::move(listener); }
  // Whether some rank was given up: it will not read its stop message, so MPI_Finalize
  // would wait for it forever.
  bool lost_ranks() const { return !lost_.empty(); }

 private:
  struct Running {
    std::string object;
    std::chrono::steady_clock::time_point since, heard;
  };
  int pick_rank(const workers::JobRequest& r) const;
  std::optional<Outcome> take(const cluster::Message& m);
  std::optional<Outcome> overdue();
  void stop_workers();

  cluster::MpiComm& world_;
  double timeout_s_, heartbeat_s_, heartbeat_timeout_s_;
  HeartbeatListener listener_;
  std::set<int> idle_, lost_;
  std::map<int, Running> running_;
  std::map<int, std::set<std::string>> held_;  // inputs each worker keeps
  std::map<int, std::string> affinity_;         // the affinity of the last job each worker ran
  std::map<std::string, std::set<int>> failed_on_;  // a retry goes to another rank when it can
};

// A worker rank's loop: receive a job (and the inputs it lacks), run it, send the outcome;
// while the job runs, a heartbeat goes to rank 0 every `heartbeat_s` (0: none).
void worker_loop(cluster::MpiComm& world, torch::Device device, double heartbeat_s);

}  // namespace strata

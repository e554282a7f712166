#pragma once
// Jobs on MPI worker ranks. Rank 0 coordinates: it hands each idle worker the costliest
// ready job, preferring a worker that already holds the job's inputs (a model's embeddings
// stay where they were sent), ships only the inputs the worker lacks, and receives the
// result payload; it alone writes the archive. Workers ask for nothing: they run what they
// are given until told to stop.
#include <chrono>
#include <map>
#include <set>
#include <string>

#include "cluster/mpi_comm.h"
#include "orchestrator/executor.h"

namespace strata {

namespace mpi_tags {
inline constexpr int job = 11, result = 12, stop = 13;
}

class MpiExecutor final : public Executor {
 public:
  // `job_timeout_s` > 0: a job running longer is reported failed and its rank gets no more work.
  MpiExecutor(cluster::MpiComm& world, double job_timeout_s);
  ~MpiExecutor() override;  // tells every worker to stop
  MpiExecutor(const MpiExecutor&) = delete;
  MpiExecutor& operator=(const MpiExecutor&) = delete;

  std::size_t capacity() const override { return idle_.size(); }
  bool can_take(const workers::JobRequest& r) const override;
  void submit(const workers::JobRequest& r, const InputLoader& load) override;
  Outcome wait() override;
  std::string where() const override;

 private:
  struct Running {
    std::string object;
    std::chrono::steady_clock::time_point since;
  };
  int pick_rank(const workers::JobRequest& r) const;
  void stop_workers();

  cluster::MpiComm& world_;
  double timeout_s_;
  std::set<int> idle_, lost_;
  std::map<int, Running> running_;
  std::map<int, std::set<std::string>> held_;  // inputs each worker keeps
  std::map<std::string, std::set<int>> failed_on_;  // a retry goes to another rank when it can
};

// A worker rank's loop: receive a job (and the inputs it lacks), run it, send the outcome.
void worker_loop(cluster::MpiComm& world, torch::Device device);

}  // namespace strata

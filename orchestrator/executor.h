#pragma once
// Where jobs run. The scheduler submits ready jobs while there is capacity and waits for
// outcomes; an in-process executor runs them here, the MPI executor on worker ranks.
#include <functional>
#include <string>

#include "workers/executor.h"

namespace strata {

struct Outcome {
  std::string object;
  bool ok = false;
  bool input_error = false;  // bad input: not retried, ends the sweep
  workers::Payload payload;
  std::string error;
  int rank = 0;   // where it ran (a job on several ranks: the first, which sent the result)
  int ranks = 1;  // how many ranks ran it
  double seconds = 0;
  bool rank_lost = false;  // the rank was given up (timeout or silence) and gets no more work
  bool group_failure = false;  // it stopped because another rank running the job with it failed
  bool not_run = false;  // it never started (queued on a rank given up first): no attempt is counted
  int inputs_held = -1;  // job inputs its rank keeps for later jobs (-1: not told)
};

// Runs one job here and turns whatever it throws into the outcome's error. `group`: the
// ranks running a train job together (workers::execute).
Outcome run_here(const workers::JobRequest& r, const workers::Inputs& inputs, torch::Device device,
                 parallel::ProcessGroup* group = nullptr);

// Gives an archive object's payload to an executor that needs it as a job input.
using InputLoader = std::function<const workers::Payload&(const std::string& object)>;
// Told the rank each time a worker running a job says it is alive.
using HeartbeatListener = std::function<void(int rank)>;

class Executor {
 public:
  virtual ~Executor() = default;
  virtual std::size_t capacity() const = 0;  // idle ranks: single-rank jobs that can be submitted now
  // The ranks the job gets when submitted: those it asks for (JobRequest::ranks), at most
  // the workers there are, at least 1. It waits until capacity() reaches this.
  virtual std::size_t ranks_for(const workers::JobRequest&) const { return 1; }
  // Whether the job can be submitted now: enough idle ranks, or (MPI) a busy rank that can
  // queue it behind a short job.
  virtual bool has_room(const workers::JobRequest& r) const { return capacity() >= ranks_for(r); }
  // False while the job should wait for another worker (e.g. it failed on every idle one).
  virtual bool can_take(const workers::JobRequest&) const { return true; }
  // Returns the rank the job runs on (0: this process).
  virtual int submit(const workers::JobRequest& r, const InputLoader& load) = 0;
  virtual Outcome wait() = 0;  // blocks until one submitted job ends
  virtual std::string where() const = 0;
  // Whether jobs run in this process's thread (then the archive is written between them).
  virtual bool runs_jobs_here() const { return false; }
  // Seconds between heartbeats of a running job (0: none are sent), and who hears them.
  virtual double heartbeat_s() const { return 0; }
  virtual void on_heartbeat(HeartbeatListener) {}
  // Bytes a group of models trained together may take on the device where it runs (0: not
  // known here; the worker refuses a group that does not fit, and its models run alone).
  virtual double fuse_memory() const { return 0; }
  // No job that has not ended reads `object` any more: ranks that keep it may let it go.
  virtual void release(const std::string& /*object*/) {}
};

class LocalExecutor final : public Executor {
 public:
  explicit LocalExecutor(torch::Device device) : device_(device) {}
  std::size_t capacity() const override { return pending_ ? 0 : 1; }
  int submit(const workers::JobRequest& r, const InputLoader& load) override;
  Outcome wait() override;
  std::string where() const override { return device_.str(); }
  bool runs_jobs_here() const override { return true; }
  double fuse_memory() const override;

 private:
  torch::Device device_;
  bool pending_ = false;
  workers::JobRequest request_;
  workers::Inputs inputs_;
};

}  // namespace strata

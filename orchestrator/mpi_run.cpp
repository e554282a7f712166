// `strata run` under mpirun/srun: rank 0 coordinates and writes the archive, the other
// ranks work. A world of one rank runs everything itself, like a plain `strata run`.
#include <optional>

#include "cluster/device.h"
#include "cluster/mpi_comm.h"
#include "core/util/error.h"
#include "core/util/log.h"
#include "orchestrator/mpi_executor.h"
#include "orchestrator/report.h"
#include "orchestrator/runner.h"
#include "orchestrator/summary.h"

namespace strata {

namespace {

// Rank 0. Every error is turned into an exit code here, inside the MPI environment, after
// the executor has told the workers to stop. `ranks_lost`: some rank was given up.
int coordinate(const sweep::Sweep& s, const RunOptions& opt, cluster::MpiComm& world, std::string* error,
               bool* ranks_lost) {
  int code = 0;
  {
    const auto& c = s.cluster;
    MpiExecutor executor(world, c.job_timeout_s, c.heartbeat_s, c.heartbeat_timeout());
    try {
      check_inputs(s);
      code = run_jobs(s, opt, executor);
    } catch (const InputError& e) {
      *error = e.what();
      code = 2;
    } catch (const std::exception& e) {
      *error = e.what();
      code = 1;
    }
    *ranks_lost = executor.lost_ranks();
    // With no worker left the scheduler ends with jobs that never ran (a given-up job is
    // retried or recorded failed, so a sweep cannot have finished): not a success.
    if (executor.all_ranks_lost() && error->empty() && code == 0) {
      *error = fmt::format("every worker rank was given up before the sweep finished; what finished is in {} "
                           "and `strata run --resume` continues it",
                           archive_path(s, opt).string());
      code = 1;
    }
  }
  if (!error->empty()) return code;
  if (opt.summary) std::fputs(summarize_archive(archive_path(s, opt), true).c_str(), stdout);
  if (opt.report && s.experiment.report) write_report(archive_path(s, opt));
  return code;
}

}  // namespace

bool under_mpi() { return cluster::MpiEnvironment::launched_under_mpi() && cluster::built_with_mpi(); }

int run_sweep_mpi(const sweep::Sweep& s, const RunOptions& opt) {
  // A worker in a data-parallel job makes MPI calls (its group's collectives) while its
  // heartbeat thread sends on the world communicator.
  const bool two_threads = s.cluster.ranks_per_train_job > 1 && s.cluster.heartbeat_s > 0;
  std::optional<cluster::MpiEnvironment> environment;
  try {
    environment.emplace(two_threads ? cluster::MpiEnvironment::Threading::multiple
                                    : cluster::MpiEnvironment::Threading::serialized);
  } catch (const RunError& e) {
    if (!two_threads) throw;
    fail_run("{} ([cluster] ranks_per_train_job > 1 with heartbeats needs MPI_THREAD_MULTIPLE; without it, set "
             "heartbeat_s = 0)",
             e.what());
  }
  auto& env = *environment;
  auto& world = env.world();
  if (world.size() == 1) return run_sweep(s, opt);
  // GPUs go to the worker ranks of a node: the coordinator computes nothing, so it takes no
  // GPU and np = GPUs + 1 fills a node. Data-parallel groups are made on this communicator.
  // (Collective: every rank splits.)
  const cluster::MpiComm workers = world.split(world.rank() == 0 ? 0 : 1, world.rank());
  if (world.rank() == 0) {
    log::info("coordinating {} worker ranks", world.size() - 1);
    std::string error;
    bool ranks_lost = false;
    const int code = coordinate(s, opt, world, &error, &ranks_lost);
    if (!error.empty()) std::fprintf(stderr, "strata: error: %s\n", error.c_str());
    if (ranks_lost) {
      // A rank given up never reads its stop message, and MPI_Finalize would wait for it.
      log::warn("some worker ranks were given up: ending every rank with MPI_Abort (exit code {})", code);
      std::fflush(stdout);
      std::fflush(stderr);
      cluster::MpiEnvironment::abort(code);
    }
    return code;
  }
  log::set_level(std::min(log::level(), log::Level::warn));  // one voice: the coordinator's
  try {
    const auto device = cluster::select_device(opt.device, workers.local_rank(), workers.local_size(), s.cluster.share_gpus);
    // The workers of a node share its cores and, with share_gpus, its GPU (cluster/device.h).
    const auto threads = opt.threads > 0                      ? opt.threads
                         : s.cluster.threads_per_worker > 0 ? static_cast<int>(s.cluster.threads_per_worker)
                                                            : cluster::threads_per_worker(workers.local_size());
    torch::set_num_threads(threads);
    if (device.is_cuda()) {
      const int gpus = static_cast<int>(torch::cuda::device_count());
      const int local = workers.local_size();
      // Workers on this GPU: local ranks r with r % gpus == this one's.
      const int sharers = local / gpus + (workers.local_rank() % gpus < local % gpus ? 1 : 0);
      cluster::share_gpu(device, sharers);
    }
    worker_loop(world, workers, device, s.cluster.heartbeat_s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "strata: rank %d: %s\n", world.rank(), e.what());
    cluster::MpiEnvironment::abort(1);
  }
  return 0;
}

}  // namespace strata

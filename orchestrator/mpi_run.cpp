// `strata run` under mpirun/srun: rank 0 coordinates and writes the archive, the other
// ranks work. A world of one rank runs everything itself, like a plain `strata run`.
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
// the executor has told the workers to stop.
int coordinate(const sweep::Sweep& s, const RunOptions& opt, cluster::MpiComm& world, std::string* error) {
  int code = 0;
  try {
    MpiExecutor executor(world, s.cluster.job_timeout_s);
    check_inputs(s);
    code = run_jobs(s, opt, executor);
  } catch (const InputError& e) {
    *error = e.what();
    return 2;
  } catch (const std::exception& e) {
    *error = e.what();
    return 1;
  }
  std::fputs(summarize_archive(archive_path(s, opt), true).c_str(), stdout);
  if (opt.report && s.report) write_report(archive_path(s, opt));
  return code;
}

}  // namespace

bool under_mpi() { return cluster::MpiEnvironment::launched_under_mpi() && cluster::built_with_mpi(); }

int run_sweep_mpi(const sweep::Sweep& s, const RunOptions& opt) {
  cluster::MpiEnvironment env;
  auto& world = env.world();
  if (world.size() == 1) return run_sweep(s, opt);
  if (opt.threads > 0) torch::set_num_threads(opt.threads);
  if (world.rank() == 0) {
    log::info("coordinating {} worker ranks", world.size() - 1);
    std::string error;
    const int code = coordinate(s, opt, world, &error);
    if (!error.empty()) std::fprintf(stderr, "strata: error: %s\n", error.c_str());
    return code;
  }
  log::set_level(std::min(log::level(), log::Level::warn));  // one voice: the coordinator's
  try {
    const auto device = cluster::select_device(opt.device, world.local_rank(), world.local_size(), s.cluster.share_gpus);
    worker_loop(world, device);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "strata: rank %d: %s\n", world.rank(), e.what());
    cluster::MpiEnvironment::abort(1);
  }
  return 0;
}

}  // namespace strata

#pragma once
// Runs a sweep: the job graph is scheduled onto an executor (this process, or MPI worker
// ranks), and every result is committed to the archive by this process alone.
#include <filesystem>
#include <string>

#include "orchestrator/executor.h"
#include "orchestrator/progress.h"
#include "orchestrator/sweep.h"

namespace strata {

struct RunOptions {
  std::filesystem::path archive;  // empty: the sweep's
  bool resume = false;
  std::string device = "auto";
  int threads = 0;  // 0: torch's default
  bool report = true;
  progress::Style progress = progress::Style::log;
  bool summary = true;  // print the archive's summary tables at the end
};

// Every input file is looked at before the archive is touched, so a typo costs nothing.
void check_inputs(const sweep::Sweep& s);

// Runs every unfinished job of the sweep on `executor`. Returns the exit code: 0 all jobs
// done, 1 some job failed. Bad input throws InputError (finished results stay).
int run_jobs(const sweep::Sweep& s, const RunOptions& opt, Executor& executor);

// The single-process run: the in-process executor on the chosen device, then the summary
// and the report.
int run_sweep(const sweep::Sweep& s, const RunOptions& opt);

// True when started by mpirun/srun in a build with MPI.
bool under_mpi();
// The MPI run: rank 0 coordinates and writes, the other ranks work (orchestrator/mpi_run.cpp).
int run_sweep_mpi(const sweep::Sweep& s, const RunOptions& opt);

std::filesystem::path archive_path(const sweep::Sweep& s, const RunOptions& opt);

}  // namespace strata

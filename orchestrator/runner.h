#pragma once
// Runs a sweep's job DAG in this process: corpus -> embeddings -> training -> analyses.
// The MPI coordinator runs the same jobs through the same functions, spread over ranks.
#include <filesystem>
#include <string>

#include "orchestrator/plan.h"
#include "orchestrator/sweep.h"
#include "workers/jobs.h"

namespace strata {

struct RunOptions {
  std::filesystem::path archive;  // empty: the sweep's
  bool resume = false;
  std::string device = "auto";
  int threads = 0;  // 0: torch's default
  bool report = true;
};

// Returns the exit code: 0 all jobs done, 1 some job failed.
int run_sweep(const sweep::Sweep& s, const RunOptions& opt);

// Job specs for the workers, from the sweep and the plan.
workers::CorpusJob corpus_job(const sweep::Sweep& s);
workers::EmbedJob embed_job(const sweep::Sweep& s, const plan::EmbedJob& e);
workers::TrainJob train_job(const plan::TrainJob& t);
workers::AnalysisJob analysis_job(const plan::AnalysisJob& a);

}  // namespace strata

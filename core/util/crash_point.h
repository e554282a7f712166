#pragma once
// Crash injection for the crash-recovery tests. STRATA_CRASH_AT="POINT[@RANK][#N]" makes the
// process raise SIGKILL (no unwinding, no flushing: what kill -9 does) the N-th time (default 1)
// it reaches crash_point("POINT"); with @RANK only on that MPI world rank (OMPI_COMM_WORLD_RANK
// or PMI_RANK; a process started without mpirun is rank 0). Unset, a crash point costs one
// branch. The points:
//   embed     a text-model embedding (or one shard of it), after its first batch (core/nn/embed.cpp)
//   train     a training job, after epoch max(1, epochs / 2) (core/moe/trainer.cpp)
//   analysis  an analysis job, after the per-stratum dimensions (workers/analysis_job.cpp)
//   journal   coordinator: a job's journal file written and synced under its temporary name,
//             not yet renamed (orchestrator/archive.cpp)
//   merge     coordinator: a job copied into the open archive, its links and status not yet
//             written, nothing flushed (orchestrator/archive.cpp)
//   done      coordinator: the job merged and the archive closed, the scheduler not yet told
//             (orchestrator/archive.cpp)
#include <optional>
#include <string>

namespace strata {

void crash_point(const char* name);

// A fault a test asks for through an environment variable, "[MODE:]POINT[@RANK][#N]": at
// POINT, in MODE (the variable's own meaning when empty; e.g. "hang"), only on MPI world rank
// RANK when given, the N-th time (default 1) the point is reached. Both STRATA_CRASH_AT and
// STRATA_INJECT_FAILURE (workers/executor.cpp) are read so. Throws InputError when malformed.
struct FaultSpec {
  std::string mode, point, rank;
  long nth = 1;
  bool on_this_rank() const;  // no rank given, or this process's world rank
};
std::optional<FaultSpec> fault_from_env(const char* variable);
std::string world_rank();  // OMPI_COMM_WORLD_RANK or PMI_RANK; "0" without mpirun

}  // namespace strata

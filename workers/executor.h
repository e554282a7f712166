#pragma once
// One job as a message: what to compute (kind + spec), which archive objects it reads, and
// the function every rank runs on it. The same request runs in-process or on an MPI worker.
#include <torch/torch.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/parallel/process_group.h"
#include "workers/jobs.h"
#include "workers/payload.h"

namespace strata::workers {

// An archive object a job reads, and what it is to the job ("corpus", "embedding", "trained",
// "strata" (a run's strata job), "source" (a null model's), "shard").
struct JobInput {
  std::string role, object;
  bool operator==(const JobInput&) const = default;
};

struct JobRequest {
  std::string object;               // the archive object it produces, e.g. "/trained/<id>"
  std::string id;                   // its job id
  std::string kind;                 // corpus | embed | train | strata | analysis | geometry
  nlohmann::json spec;              // the resolved job: spec::to_json of its kind's spec
  std::vector<JobInput> inputs;     // archive objects it reads, e.g. {"corpus", "/corpus"}
  double cost = 1;                  // relative cost estimate: larger jobs are scheduled first
  std::string affinity;             // jobs with equal affinity prefer the rank that ran the last
                                    // one (e.g. it holds their model loaded); "" for none
  int ranks = 1;                    // ranks it asks for: a train job on several is trained
                                    // data-parallel (an executor may give it fewer)

  std::string serialize() const;
  static JobRequest deserialize(const std::string& bytes);
  // The object read in `role` (RunError when the job has none); every object of that role.
  const std::string& input(const std::string& role) const;
  std::vector<std::string> inputs_of(const std::string& role) const;
};

using Inputs = std::map<std::string, Payload>;  // archive object -> its payload

// Train jobs on the same inputs whose models train together as one (moe::fusable; kind
// "train_group", known by its first member's object): its payload holds member k's under
// fused_member_prefix(k).
JobRequest fused_request(const std::vector<const JobRequest*>& members);
std::string fused_member_prefix(std::size_t k);

// JSON from another rank; RunError naming `what` where it is not JSON.
nlohmann::json parse_message_json(std::string_view text, const std::string& what);

// Runs one job. Throws InputError for bad input (not worth retrying), anything else for
// failures that another attempt may not repeat. `group`: the ranks that train a train job
// together, each calling this with the same request and inputs; a rank that fails makes all
// of them throw (parallel::run_together), and only group rank 0 returns the full result.
Payload execute(const JobRequest& r, const Inputs& inputs, torch::Device device,
                parallel::ProcessGroup* group = nullptr);

}  // namespace strata::workers

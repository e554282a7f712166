#pragma once
// One job as a message: what to compute (kind + spec), which archive objects it reads, and
// the function every rank runs on it. The same request runs in-process or on an MPI worker.
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/process_group.h"
#include "workers/jobs.h"
#include "workers/payload.h"

namespace strata::workers {

struct JobRequest {
  std::string object;               // the archive object it produces, e.g. "/trained/<id>"
  std::string id;                   // its job id
  std::string kind;                 // corpus | embed | train | analysis
  nlohmann::json spec;              // the resolved job (see job_specs.cpp)
  std::vector<std::string> inputs;  // archive objects it reads, e.g. "/corpus", "/embeddings/x"
  double cost = 1;                  // relative cost estimate: larger jobs are scheduled first
  std::string affinity;             // jobs with equal affinity prefer the rank that ran the last
                                    // one (e.g. it holds their model loaded); "" for none
  int ranks = 1;                    // ranks it asks for: a train job on several is trained
                                    // data-parallel (an executor may give it fewer)

  std::string serialize() const;
  static JobRequest deserialize(const std::string& bytes);
};

using Inputs = std::map<std::string, Payload>;  // archive object -> its payload

// Runs one job. Throws InputError for bad input (not worth retrying), anything else for
// failures that another attempt may not repeat. `group`: the ranks that train a train job
// together, each calling this with the same request and inputs; a rank that fails makes all
// of them throw (cluster::run_together), and only group rank 0 returns the full result.
Payload execute(const JobRequest& r, const Inputs& inputs, torch::Device device,
                cluster::ProcessGroup* group = nullptr);

// Spec (de)serialisation of the four job kinds.
nlohmann::json to_json(const CorpusJob& j);
nlohmann::json to_json(const EmbedJob& j);
nlohmann::json to_json(const TrainJob& j);
nlohmann::json to_json(const AnalysisJob& j);
CorpusJob corpus_job_from_json(const nlohmann::json& j);
EmbedJob embed_job_from_json(const nlohmann::json& j);
TrainJob train_job_from_json(const nlohmann::json& j);
AnalysisJob analysis_job_from_json(const nlohmann::json& j);

}  // namespace strata::workers

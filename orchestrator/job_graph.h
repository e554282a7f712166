#pragma once
// The sweep's jobs as a graph: corpus -> embeddings -> training and strata -> analyses (runs).
// Each node is one archive object; it can run once every object it reads is in the archive.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/plan.h"
#include "orchestrator/sweep.h"
#include "workers/executor.h"

namespace strata {

struct JobNode {
  workers::JobRequest request;                 // object, id, kind, spec, inputs
  nlohmann::json config;                       // stored with the result
  std::string what;                            // "a corpus", "embeddings", ... for messages
  std::string label;                           // one line for progress output
  std::map<std::string, std::string> links;    // soft links inside the object
  std::map<std::string, std::string> attrs;    // extra string attributes
  // Its object only feeds other jobs (an embedding shard): not needed once they are done,
  // and replaced when it is there from another configuration.
  bool intermediate = false;
  // Under --resume, an object held from another configuration is computed again (an
  // embedding after a batching or model change) instead of refusing the archive; what was
  // made from the old one stays, and reads as stale (its `input_jobs` name the old job).
  bool replace_on_change = false;
};

// Every node's attrs["input_jobs"] is a JSON object {input object: its job id} of the inputs
// it is made from (intermediate ones aside).
std::vector<JobNode> job_graph(const sweep::Sweep& s, const plan::Plan& p);

}  // namespace strata

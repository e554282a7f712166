#pragma once
// The two messages between the coordinator and a worker, as bytes (core/util/wire.h): a job
// (its request, the group it runs in, the inputs the worker may forget and those it lacks) and
// its outcome. A message that does not decode (cut short, a count or size beyond its bytes) is a
// RunError naming the message; nothing is allocated beyond what the bytes hold.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "orchestrator/executor.h"
#include "workers/executor.h"
#include "workers/payload.h"

namespace strata {

struct JobMessage {
  std::string request;                                       // workers::JobRequest::serialize()
  std::string group;                                         // the data-parallel group (JSON), "" for none
  std::vector<std::string> drops;                            // objects the worker may forget
  std::vector<std::pair<std::string, workers::Payload>> inputs;  // objects it lacks, with their payloads

  std::string encode() const;
  // `what` names the message in errors ("job message from rank 0").
  static JobMessage decode(std::string_view bytes, const std::string& what);
};

std::string encode_outcome(const Outcome& o);
// `rank`: the sender, recorded in the outcome and named in errors.
Outcome decode_outcome(std::string_view bytes, int rank);

}  // namespace strata

// The messages between ranks: a job message (request, group, inputs with their payloads), the
// job request and the spec of its kind inside it, and an outcome. A message that does not decode
// is a RunError (or an InputError for a spec that fails its checks); nothing else may escape.
#include <string>
#include <string_view>

#include "core/analysis/analysis_spec.h"
#include "core/analysis/geometry_spec.h"
#include "core/data/corpus_spec.h"
#include "core/moe/config.h"
#include "core/nn/embed_spec.h"
#include "core/spec/schema.h"
#include "orchestrator/job_messages.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

// The spec of the request's kind, read as a worker reads it.
void read_spec(const strata::workers::JobRequest& r) {
  namespace spec = strata::spec;
  if (r.kind == "corpus") (void)spec::from_json<strata::CorpusSpec>(r.spec, "fuzz");
  else if (r.kind == "embed") (void)spec::from_json<strata::nn::EmbedSpec>(r.spec, "fuzz");
  else if (r.kind == "train") (void)spec::from_json<strata::moe::MoeConfig>(r.spec, "fuzz");
  else if (r.kind == "geometry") (void)spec::from_json<strata::analysis::GeometrySpec>(r.spec, "fuzz");
  else (void)spec::from_json<strata::analysis::AnalysisSpec>(r.spec, "fuzz");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0: (void)strata::JobMessage::decode(bytes, "fuzz job message"); break;
      case 1: read_spec(strata::workers::JobRequest::deserialize(std::string(bytes))); break;
      case 2: (void)strata::decode_outcome(bytes, 1); break;
      default: {
        const auto p = strata::workers::Payload::deserialize(bytes);
        (void)strata::workers::Payload::deserialize(p.serialize());  // what decodes encodes again
      }
    }
  } catch (const strata::RunError&) {
  } catch (const strata::InputError&) {
  }
  return 0;
}

// Geometry jobs: one embedding's local and multiscale geometry, each result beside its meaning.
#include <nlohmann/json.hpp>

#include "core/analysis/geometry/geometry.h"
#include "core/util/error.h"
#include "workers/jobs.h"

namespace strata::workers {

Payload run_geometry(const analysis::GeometrySpec& job, const torch::Tensor& X, const torch::Tensor& groups,
                     const std::vector<std::string>& group_names, const std::string& group_kind, torch::Device device) {
  const analysis::GeometryResult r = analysis::embedding_geometry(X, groups, job, device);
  Payload p;
  p.tensors = r.tensors;
  // Numbers are datasets too, so a reader finds every readout by its path.
  for (const auto& [name, v] : r.numbers) {
    if (r.tensors.count(name)) fail_run("geometry: the number {} and a dataset share one name", name);
    p.tensors[name] = torch::tensor(v, torch::kFloat64);
  }
  // A flag says why a readout is uninformative: kept as text where the readout is.
  for (const auto& [name, why] : r.attrs) p.strings[name] = {why};
  p.strings["groups/names"] = group_names;
  nlohmann::json doc = r.doc;
  doc["groups/names"] = "the names of the group labels: group g (groups/values[g]) is groups/names[groups/values[g]]";
  p.attrs["doc"] = doc.dump();
  p.attrs["groups"] = group_kind;
  return p;
}

}  // namespace strata::workers

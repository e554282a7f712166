// Geometry jobs: one embedding's local and multiscale geometry, each result beside its meaning.
#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/analysis/geometry/geometry.h"
#include "core/analysis/geometry/knn.h"
#include "core/analysis/geometry/neighbourhood_overlap.h"
#include "core/util/error.h"
#include "core/util/host_memory.h"
#include "workers/jobs.h"

namespace strata::workers {

namespace {

// How far each other representation of the same rows shares this one's neighbourhoods: the mean
// of |N_k(i) ∩ N'_k(i)| / k over the analysed points (Valeriani et al.'s overlap between layers
// and between models), k = boundary_k.
// Returns the names of the embeddings compared.
std::vector<std::string> overlaps(const analysis::GeometrySpec& job, const torch::Tensor& X,
                                  const std::map<std::string, torch::Tensor>& others, torch::Device device,
                                  analysis::GeometryResult& r) {
  const auto rows_it = r.tensors.find("points/rows");
  if (others.empty() || rows_it == r.tensors.end()) return {};
  const torch::Tensor rows = rows_it->second;
  const std::int64_t k = std::min(job.boundary_k, rows.size(0) - 1);
  if (k < 1) return {};
  const auto near = [&](const torch::Tensor& Y) {
    return analysis::geometry::knn(Y.index_select(0, rows).to(device, torch::kFloat64), k).indices;
  };
  // This embedding's neighbourhoods are the ones its readouts used; only the others' are searched.
  const torch::Tensor mine = r.neighbours.defined() && r.neighbours.size(1) >= k ? r.neighbours.narrow(1, 0, k) : near(X);
  std::vector<std::string> names;
  std::vector<double> values;
  for (const auto& [name, Y] : others) {
    if (Y.size(0) != X.size(0)) continue;  // not the same rows (tokens against texts)
    names.push_back(name);
    values.push_back(analysis::geometry::data_overlap(mine, near(Y), k).mean().item<double>());
  }
  if (names.empty()) return {};
  r.tensors["overlap/embeddings"] = torch::tensor(values, torch::kFloat64);
  r.doc["overlap/embeddings"] = fmt::format(
      "mean fraction of a point's {} nearest neighbours that are its neighbours in each embedding of "
      "overlap/embedding_names too (the same rows, the analysed points)", k);
  r.doc["overlap/embedding_names"] = "the embeddings overlap/embeddings compares this one with";
  return names;
}

// A lower bound of what the readouts hold at once on the host: the float64 copy of the (at most
// max_points) points and the neighbour table (distances and indices) of the largest rank read.
double geometry_bytes(const analysis::GeometrySpec& job, std::int64_t N, std::int64_t L) {
  const double n = static_cast<double>(std::min(N, job.max_points));
  std::int64_t k = std::max({job.gride_max_rank, job.volume_k_hi, job.boundary_k});
  for (auto ki : job.ks) k = std::max(k, ki);
  return 8.0 * n * static_cast<double>(L) + 16.0 * n * static_cast<double>(std::min(k, N));
}

}  // namespace

Payload run_geometry(const analysis::GeometrySpec& job, const torch::Tensor& X, const torch::Tensor& groups,
                     const std::vector<std::string>& group_names, const std::string& group_kind,
                     const std::map<std::string, torch::Tensor>& others, torch::Device device) {
  if (X.dim() == 2)
    check_host_memory(geometry_bytes(job, X.size(0), X.size(1)), host_memory_bytes(),
                      fmt::format("the geometry of {} x {} points", std::min(X.size(0), job.max_points), X.size(1)),
                      "lower [geometry] max_points or its neighbour ranks");
  analysis::GeometryResult r = analysis::embedding_geometry(X, groups, job, device);
  const std::vector<std::string> other_names = overlaps(job, X, others, device, r);
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
  if (!other_names.empty()) p.strings["overlap/embedding_names"] = other_names;
  nlohmann::json doc = r.doc;
  doc["groups/names"] = "the names of the group labels: group g (groups/values[g]) is groups/names[groups/values[g]]";
  p.attrs["doc"] = doc.dump();
  p.attrs["groups"] = group_kind;
  return p;
}

}  // namespace strata::workers

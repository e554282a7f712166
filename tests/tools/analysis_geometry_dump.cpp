// analysis_geometry_dump [--device=cuda] VERB ARGS...: the embedding-geometry estimators
// (core/analysis/geometry/) on .npy inputs, for the Python parity tests. Each verb prints one
// JSON object; per-point arrays go to OUT_PREFIX.<name>.npy.
//   knn X.npy K OUT                       OUT.dist.npy, OUT.idx.npy
//   gride X.npy MAX_RANK                  {ranks, id, err, scale, discarded}
//   twonn_scaling X.npy MIN SEED OUT      {sizes, count, id, std, err, scale}; OUT.subsets.npy (concatenated)
//   local X.npy K1,K2,.. OUT              OUT.mle.npy, OUT.twonn.npy [n, |ks|]
//   id X.npy K1,K2,.. MAX_RANK MIN SEED OUT   local, gride and twonn_scaling from one kNN, as the
//                                         geometry job runs them: {gride, twonn_scaling, seconds (per
//                                         stage, the loading of X included in "load")}; OUT.mle.npy, OUT.twonn.npy
//   corr X.npy R TOL                      {radii, counts, dimension, r_lo, r_hi, residual, flag}
//   corrint X.npy K1 K2                   {dimension}
//   mst X.npy                             {length}
//   ph0 X.npy N1,N2,.. REPEATS SEED OUT   {sizes, lengths, dimension, slope}; OUT.subsets.npy (concatenated)
//   overlap A.npy B.npy LABELS.npy K OUT  {data, label, label_balanced}; OUT.data.npy, OUT.label.npy
//   volume X.npy KLO KHI R OUT            OUT.{slope,slope_small,slope_large,f,violates}.npy for every point
//   persistence X.npy M FIRST OUT         OUT.{landmarks,h0,h1}.npy: farthest-point landmarks, their Rips bars
//   geometry X.npy GROUPS.npy|- OUT       the entry point with default settings: {numbers, attrs, tensors
//                                         (name -> shape), nonfinite (name -> count)}; OUT.<name>.npy
#include <algorithm>
#include <chrono>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/analysis/geometry/correlation_dimension.h"
#include "core/analysis/geometry/geometry.h"
#include "core/analysis/geometry/knn.h"
#include "core/analysis/geometry/local_id.h"
#include "core/analysis/geometry/multiscale_id.h"
#include "core/analysis/geometry/neighbourhood_overlap.h"
#include "core/analysis/geometry/persistence.h"
#include "core/analysis/geometry/ph0_dimension.h"
#include "core/analysis/geometry/volume_growth.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "tests/tools/json_verbs.h"

namespace {

namespace g = strata::analysis::geometry;
using nlohmann::json;
using Args = std::vector<std::string>;

torch::Device device = torch::kCPU;

torch::Tensor points(const std::string& path) { return strata::io::read_npy(path).to(device, torch::kFloat64); }

std::vector<std::int64_t> list(const std::string& s) {
  std::vector<std::int64_t> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoll(item));
  return out;
}

json values(const torch::Tensor& t) {
  const auto c = t.to(torch::kCPU, torch::kFloat64).contiguous().flatten();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

void need(const Args& a, std::size_t n, const char* usage) {
  if (a.size() != n) strata::fail_input("analysis_geometry_dump: expected {}", usage);
}

void save(const std::string& prefix, const std::string& name, const torch::Tensor& t) {
  strata::io::write_npy(prefix + "." + name + ".npy", t.to(torch::kCPU).contiguous());
}

json run_knn(const Args& a) {
  need(a, 3, "knn X.npy K OUT");
  const auto nn = g::knn(points(a[0]), std::stoll(a[1]));
  save(a[2], "dist", nn.distances);
  save(a[2], "idx", nn.indices);
  return json::object();
}

json run_gride(const Args& a) {
  need(a, 2, "gride X.npy MAX_RANK");
  const std::int64_t rank = std::stoll(a[1]);
  const auto X = points(a[0]);
  const auto s = g::gride_scaling(g::knn(X, std::min(rank, X.size(0) - 1)).distances, rank);
  return {{"ranks", values(s.ranks)}, {"id", values(s.id)}, {"err", values(s.err)}, {"scale", values(s.scale)},
          {"discarded", values(s.discarded)}};
}

torch::Tensor concatenated(const std::vector<std::vector<torch::Tensor>>& sets) {
  std::vector<torch::Tensor> all;
  for (const auto& s : sets) all.insert(all.end(), s.begin(), s.end());
  return torch::cat(all);
}

json run_twonn_scaling(const Args& a) {
  need(a, 4, "twonn_scaling X.npy MIN SEED OUT");
  const auto X = points(a[0]);
  const auto plan = g::decimation_plan(X.size(0), std::stoll(a[1]), std::stoull(a[2]));
  const auto s = g::twonn_scaling(X, plan);
  save(a[3], "subsets", concatenated(plan.subsets));
  return {{"sizes", values(s.sizes)}, {"count", values(s.count)}, {"id", values(s.id)}, {"std", values(s.std)},
          {"err", values(s.err)}, {"scale", values(s.scale)}};
}

json run_local(const Args& a) {
  need(a, 3, "local X.npy K1,K2,.. OUT");
  const auto X = points(a[0]);
  const auto ks = list(a[1]);
  const auto nn = g::knn(X, *std::max_element(ks.begin(), ks.end()));
  save(a[2], "mle", g::local_mle(nn.distances, ks));
  save(a[2], "twonn", g::local_twonn(X, nn.indices, ks));
  return json::object();
}

// Seconds since the last call (the stages copy their results to the CPU, so the device is done).
double lap() {
  static auto last = std::chrono::steady_clock::now();
  const auto now = std::chrono::steady_clock::now();
  const double s = std::chrono::duration<double>(now - last).count();
  last = now;
  return s;
}

json run_id(const Args& a) {
  need(a, 6, "id X.npy K1,K2,.. MAX_RANK MIN SEED OUT");
  lap();
  const auto X = points(a[0]);
  const auto ks = list(a[1]);
  const std::int64_t rank = std::stoll(a[2]);
  json seconds{{"load", lap()}};
  const auto nn = g::knn(X, std::min(X.size(0) - 1, std::max(rank, *std::max_element(ks.begin(), ks.end()))));
  seconds["knn"] = lap();
  save(a[5], "mle", g::local_mle(nn.distances, ks));
  save(a[5], "twonn", g::local_twonn(X, nn.indices, ks));
  seconds["local"] = lap();
  const auto gs = g::gride_scaling(nn.distances, rank);
  seconds["gride"] = lap();
  const auto ts = g::twonn_scaling(X, g::decimation_plan(X.size(0), std::stoll(a[3]), std::stoull(a[4])), nn.distances);
  seconds["twonn_scaling"] = lap();
  return {{"gride", {{"ranks", values(gs.ranks)}, {"id", values(gs.id)}, {"err", values(gs.err)}}},
          {"twonn_scaling", {{"sizes", values(ts.sizes)}, {"id", values(ts.id)}, {"err", values(ts.err)}}},
          {"seconds", seconds}};
}

json run_corr(const Args& a) {
  need(a, 3, "corr X.npy R TOL");
  const auto X = points(a[0]);
  const auto c = g::correlation_dimension(X, g::knn(X, 1).distances.select(1, 0), std::stoll(a[1]), std::stod(a[2]));
  return {{"radii", values(c.integral.radii)}, {"counts", values(c.integral.counts)}, {"dimension", c.fit.dimension},
          {"r_lo", c.fit.r_lo}, {"r_hi", c.fit.r_hi}, {"residual", c.fit.residual}, {"lo", c.fit.lo}, {"hi", c.fit.hi},
          {"flag", c.fit.flag}};
}

json run_corrint(const Args& a) {
  need(a, 3, "corrint X.npy K1 K2");
  const auto X = points(a[0]);
  const std::int64_t k2 = std::stoll(a[2]);
  return {{"dimension", g::corrint_two_radii(X, g::knn(X, k2).distances, std::stoll(a[1]), k2)}};
}

json run_mst(const Args& a) {
  need(a, 1, "mst X.npy");
  return {{"length", g::mst_length(g::distance_matrix(points(a[0])))}};
}

json run_ph0(const Args& a) {
  need(a, 5, "ph0 X.npy N1,N2,.. REPEATS SEED OUT");
  const auto X = points(a[0]);
  const auto subsets = g::ph0_subsets(X.size(0), list(a[1]), std::stoll(a[2]), std::stoull(a[3]));
  const auto r = g::ph0_dimension(X, subsets);
  save(a[4], "subsets", concatenated(subsets));
  return {{"sizes", values(r.sizes)}, {"lengths", values(r.lengths)}, {"dimension", r.dimension}, {"slope", r.slope},
          {"flag", r.flag}};
}

json run_overlap(const Args& a) {
  need(a, 5, "overlap A.npy B.npy LABELS.npy K OUT");
  const std::int64_t k = std::stoll(a[3]);
  const auto labels = strata::io::read_npy(a[2]).to(torch::kInt64);
  const auto ia = g::knn(points(a[0]), k).indices, ib = g::knn(points(a[1]), k).indices;
  const auto data = g::data_overlap(ia, ib, k), label = g::label_overlap(ia, labels, k);
  save(a[4], "data", data);
  save(a[4], "label", label);
  return {{"data", data.mean().item<double>()}, {"label", label.mean().item<double>()},
          {"label_balanced", g::label_balanced_mean(label, labels)}};
}

json run_volume(const Args& a) {
  need(a, 5, "volume X.npy KLO KHI R OUT");
  const auto X = points(a[0]);
  const auto v = g::volume_growth(X, torch::arange(X.size(0), torch::kInt64), {std::stoll(a[1]), std::stoll(a[2]), std::stoll(a[3])});
  for (const auto& [name, t] : {std::pair{"slope", v.slope}, {"slope_small", v.slope_small}, {"slope_large", v.slope_large},
                                {"f", v.f}, {"violates", v.violates}})
    save(a[4], name, t);
  return json::object();
}

json run_persistence(const Args& a) {
  need(a, 4, "persistence X.npy M FIRST OUT");
  const auto X = points(a[0]);
  const auto landmarks = g::farthest_points(X, std::stoll(a[1]), std::stoll(a[2]));
  const auto d = g::rips_persistence(g::exact_distances(X.index_select(0, landmarks.to(X.device()))));
  for (const auto& [name, t] : {std::pair{"landmarks", landmarks}, {"h0", d.h0}, {"h1", d.h1}}) save(a[3], name, t);
  return json::object();
}

json run_geometry(const Args& a) {
  need(a, 3, "geometry X.npy GROUPS.npy|- OUT");
  const auto X = strata::io::read_npy(a[0]);
  const auto groups = a[1] == "-" ? torch::Tensor() : strata::io::read_npy(a[1]);
  const auto r = strata::analysis::embedding_geometry(X, groups, strata::analysis::GeometrySpec{}, device);
  json out{{"numbers", r.numbers}, {"attrs", r.attrs}, {"tensors", json::object()}, {"nonfinite", json::object()},
           {"doc", r.doc}};
  for (const auto& [name, t] : r.tensors) {
    out["tensors"][name] = t.sizes().vec();
    out["nonfinite"][name] = t.is_floating_point() ? (~torch::isfinite(t)).sum().item<std::int64_t>() : 0;
    auto file = name;
    std::replace(file.begin(), file.end(), '/', '.');
    save(a[2], file, t);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Args args(argv + 1, argv + argc);
  std::string device_name = "cpu";
  if (!args.empty() && args[0].rfind("--device=", 0) == 0) {
    device_name = args[0].substr(9);
    args.erase(args.begin());
  }
  return strata::test::run_verb("analysis_geometry_dump", args,
                                {{"knn", run_knn}, {"gride", run_gride}, {"twonn_scaling", run_twonn_scaling},
                                 {"local", run_local}, {"id", run_id}, {"corr", run_corr}, {"corrint", run_corrint},
                                 {"mst", run_mst}, {"ph0", run_ph0}, {"overlap", run_overlap}, {"volume", run_volume},
                                 {"persistence", run_persistence}, {"geometry", run_geometry}},
                                [&] { device = torch::Device(device_name); });
}

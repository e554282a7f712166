// analysis_dump pca X.npy OUT_PREFIX         writes OUT_PREFIX.{components,ratio,projection}.npy,
//                                            prints {"pca_dimension": {"0.5": n, "0.75": n, ...}}
// analysis_dump agreement A.npy B.npy        prints {"ari": x, "nmi": x} for two int64 labelings
// analysis_dump kmeans X.npy K SEED OUT.npy  writes the labels, prints {"inertia": x, "iterations": n}
// analysis_dump dimensions X.npy K           prints every estimator of id_estimators.h by name
//                                            ({"pca": x, "twonn": x, "mle": x, ...}; mle_k = K)
// Lets the Python tests compare strata's analyses with scikit-learn and numpy/scipy.
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/analysis/analysis.h"
#include "core/analysis/id_estimators.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "tests/tools/json_verbs.h"

namespace {

namespace sa = strata::analysis;
using nlohmann::json;

json run_pca(const std::vector<std::string>& args) {
  if (args.size() != 2) strata::fail_input("analysis_dump pca: expected X.npy OUT_PREFIX");
  const auto X = strata::io::read_npy(args[0]);
  const auto p = sa::pca(X);
  strata::io::write_npy(args[1] + ".components.npy", p.components);
  strata::io::write_npy(args[1] + ".ratio.npy", p.explained_variance_ratio);
  strata::io::write_npy(args[1] + ".projection.npy", sa::pca_transform(p, X, p.components.size(0)).contiguous());
  json dims;
  for (const double f : {0.5, 0.75, 0.9, 0.95}) dims[fmt::format("{}", f)] = sa::pca_dimension(X, f);
  return {{"pca_dimension", dims}};
}

json run_agreement(const std::vector<std::string>& args) {
  if (args.size() != 2) strata::fail_input("analysis_dump agreement: expected A.npy B.npy");
  const auto a = strata::io::read_npy(args[0]);
  const auto b = strata::io::read_npy(args[1]);
  return {{"ari", sa::adjusted_rand_index(a, b)}, {"nmi", sa::normalized_mutual_information(a, b)}};
}

json run_kmeans(const std::vector<std::string>& args) {
  if (args.size() != 4) strata::fail_input("analysis_dump kmeans: expected X.npy K SEED OUT.npy");
  const auto result = sa::kmeans(strata::io::read_npy(args[0]), std::stoi(args[1]), std::stoull(args[2]));
  strata::io::write_npy(args[3], result.labels);
  return {{"inertia", result.inertia}, {"iterations", result.iterations}};
}

json run_dimensions(const std::vector<std::string>& args) {
  if (args.size() != 2) strata::fail_input("analysis_dump dimensions: expected X.npy K");
  const auto X = strata::io::read_npy(args[0]).to(torch::kFloat64);
  sa::AnalysisSpec spec;
  spec.mle_k = std::stoi(args[1]);
  json out;
  for (const auto& e : sa::id_estimators()) out[e.name] = e.estimate(X, spec);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  return strata::test::run_verb("analysis_dump", {argv + 1, argv + argc},
                                {{"pca", run_pca}, {"agreement", run_agreement}, {"kmeans", run_kmeans},
                                 {"dimensions", run_dimensions}});
}

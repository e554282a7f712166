// What makes a readout trustworthy: rank agreement with the truth, model health and its flags,
// subsampling intervals, dimensions at a common size.
#include <cmath>

#include "core/analysis/bootstrap.h"
#include "core/analysis/ground_truth.h"
#include "core/analysis/id_estimators.h"
#include "core/analysis/model_health.h"
#include "core/analysis/pca.h"
#include "tests/catch.hpp"

namespace sa = strata::analysis;

TEST_CASE("Spearman's rho agrees with scipy, ties included, and ignores non-finite pairs", "[readouts]") {
  // scipy.stats.spearmanr of the same vectors.
  CHECK(std::abs((sa::spearman({1, 2, 2, 3, 5}, {2, 1, 4, 4, 9})) - (0.7631578947368421)) < 1e-10);
  CHECK(std::abs((sa::spearman({1, 2, 3, 3, 8}, {4.1, 5.0, 6.2, 5.9, 9.0})) - (0.9746794344808963)) < 1e-10);
  CHECK(std::abs((sa::spearman({1, 2, 3}, {3, 2, 1})) - (-1.0)) < 1e-9);
  CHECK(std::abs((sa::spearman({1, 2, NAN, 3}, {1, 2, 7, 3})) - (1.0)) < 1e-9);
  CHECK(std::isnan(sa::spearman({1, 2}, {1, 2})));           // too few pairs
  CHECK(std::isnan(sa::spearman({1, 1, 1}, {1, 2, 3})));     // one side constant
}

TEST_CASE("each found stratum gets the true dimension of the true stratum it mostly holds", "[readouts]") {
  const auto found = torch::tensor({0, 0, 0, 1, 1, 2, 2, 2}, torch::kInt64);
  const auto truth = torch::tensor({1, 1, 0, 0, 0, 2, 2, 2}, torch::kInt64);
  const auto t = sa::stratum_truth(found, 4, truth, torch::tensor({2, 5, 9}, torch::kInt64));
  CHECK(t.dim[0] == 5);
  CHECK(std::abs((t.purity[0]) - (2.0 / 3.0)) < 1e-9);
  CHECK(t.dim[1] == 2);
  CHECK(t.dim[2] == 9);
  CHECK(t.purity[2] == 1.0);
  CHECK(std::isnan(t.dim[3]));  // empty
}

TEST_CASE("a gate that routes nearly every point to one expert is flagged collapsed", "[readouts]") {
  torch::manual_seed(0);
  const std::int64_t N = 200, E = 3, M = 4;
  const auto X = torch::randn({N, 6}, torch::kFloat64);
  auto gating = torch::full({N, E}, 0.05, torch::kFloat64);
  gating.select(1, 2).fill_(0.9);
  gating.slice(0, 0, 10).select(1, 0).fill_(0.9);  // 10 of 200 points elsewhere: 95% on expert 2
  gating.slice(0, 0, 10).select(1, 2).fill_(0.05);
  const auto err = X.square().sum(1) * 0.25;  // explains 75% about the origin
  auto support = torch::zeros({N, E, M}, torch::kUInt8);
  support.select(2, 0).fill_(1);
  const auto h = sa::model_health(X, gating, err, support, torch::tensor({1.0, 2.0, 4.0}), torch::tensor({-0.1, 0.2, 0.3}));
  CHECK(h.collapsed);
  CHECK(std::abs((h.densest_argmax_share) - (0.95)) < 1e-9);
  CHECK(h.unconstrained_experts == 1);  // s = 4 = M
  CHECK(std::abs((h.negative_thresholds) - (1.0 / 3.0)) < 1e-9);
  CHECK(h.dead_atoms[0].item<std::int64_t>() == 3);
  CHECK(std::abs((h.mean_l0[1].item<double>()) - (1.0)) < 1e-9);
  CHECK(std::abs((h.entropy_max) - (std::log(3.0))) < 1e-9);
  const double total = (X - X.mean(0, true)).square().sum().item<double>();
  CHECK(std::abs((h.variance_explained) - (1.0 - err.sum().item<double>() / total)) < 1e-9);
  CHECK(sa::readout_problem(h, 0.5, "trained").find("collapsed") != std::string::npos);
  CHECK(sa::readout_problem(h, 0.5, "untrained").find("untrained") != std::string::npos);
}

TEST_CASE("variance explained within strata: none when the model gives back only the strata's means", "[readouts]") {
  torch::manual_seed(1);
  const auto strata = torch::cat({torch::zeros({50}, torch::kInt64), torch::ones({50}, torch::kInt64)});
  const auto means = torch::tensor({{10.0, 0.0, 0.0}, {-10.0, 0.0, 0.0}}, torch::kFloat64);
  const auto X = means.index_select(0, strata) + torch::randn({100, 3}, torch::kFloat64);
  // A "model" that outputs each point's stratum mean: its error is the within-stratum spread.
  const auto mu = torch::stack({X.slice(0, 0, 50).mean(0), X.slice(0, 50, 100).mean(0)});
  const auto err = (X - mu.index_select(0, strata)).square().sum(1);
  const auto w = sa::within_stratum_variance_explained(X, err, strata, 2);
  CHECK(std::abs(w.overall) < 1e-12);
  CHECK(std::abs(w.per_stratum[0].item<double>()) < 1e-12);
  // Overall it explains almost everything: the offsets between strata.
  const double total = (X - X.mean(0, true)).square().sum().item<double>();
  CHECK(1.0 - err.sum().item<double>() / total > 0.95);
  sa::ModelHealth healthy;
  healthy.argmax_share = torch::tensor({0.5, 0.5});
  CHECK(sa::readout_problem(healthy, w.overall, "trained").find("within strata") != std::string::npos);
  CHECK(sa::readout_problem(healthy, 0.3, "trained").empty());
}

TEST_CASE("subsampling intervals hold their estimate, repeat with the seed, and never repeat a point", "[readouts]") {
  torch::manual_seed(2);
  const auto X = torch::randn({120, 30}, torch::kFloat64);
  bool duplicate = false;
  const auto pca = [&](const torch::Tensor& idx) {
    duplicate = duplicate || std::get<0>(torch::_unique(idx)).numel() != idx.numel();
    return static_cast<double>(sa::pca_dimension(X.index_select(0, idx), 0.75));
  };
  const auto a = sa::subsample_ci(120, pca, 40, 9);
  const auto b = sa::subsample_ci(120, pca, 40, 9);
  CHECK(!duplicate);
  CHECK(a.lo <= a.estimate);
  CHECK(a.estimate <= a.hi);
  CHECK(a.lo == b.lo);
  CHECK(a.hi == b.hi);
  // The with-replacement bootstrap of the same PCA count excludes its own estimate: duplicated
  // points carry less variance, so fewer components reach 75%.
  const auto boot = sa::bootstrap_ci(120, pca, 40, 9);
  CHECK(boot.hi < boot.estimate);
}

TEST_CASE("dimensions at a common size: small strata get NaN, equal sizes read alike", "[readouts]") {
  torch::manual_seed(3);
  // Two strata of the same 3-D distribution, 400 and 60 points: at n = 60 they agree closely.
  const auto big = torch::randn({400, 3}, torch::kFloat64).mm(torch::randn({3, 20}, torch::kFloat64));
  const auto small = torch::randn({60, 3}, torch::kFloat64).mm(torch::randn({3, 20}, torch::kFloat64));
  const auto X = torch::cat({big, small});
  const auto strata = torch::cat({torch::zeros({400}, torch::kInt64), torch::ones({60}, torch::kInt64),});
  sa::AnalysisSpec spec;
  spec.mle_k = 5;
  const auto at60 = sa::dimensions_at(X, strata, 3, spec, 60, 8, 1);
  CHECK(std::abs(at60.at("twonn")[0] - 3.0) < 1.0);
  CHECK(std::abs(at60.at("twonn")[1] - 3.0) < 1.0);
  CHECK(std::isnan(at60.at("mle")[2]));  // an empty third stratum
  const auto at100 = sa::dimensions_at(X, strata, 2, spec, 100, 4, 1);
  CHECK(!std::isnan(at100.at("pca")[0]));
  CHECK(std::isnan(at100.at("pca")[1]));  // 60 points: too few for n = 100
  CHECK(sa::curve_sizes(20, 1000) == std::vector<std::int64_t>{20, 40, 80, 160, 320, 640});
  CHECK(sa::curve_sizes(20, 30) == std::vector<std::int64_t>{20});
}

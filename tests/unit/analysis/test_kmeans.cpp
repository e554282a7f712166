#include "core/analysis/kmeans.h"

#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/unit/analysis/analysis_fixtures.h"

namespace sa = strata::analysis;
namespace st = strata::analysis::test;

namespace {

// True when the labels induce exactly the partition `truth` (same blocks, any numbering).
bool same_partition(const torch::Tensor& labels, const torch::Tensor& truth, int k) {
  std::vector<std::int64_t> label_of_truth(static_cast<std::size_t>(k), -1);
  std::vector<std::int64_t> truth_of_label(static_cast<std::size_t>(k), -1);
  for (std::int64_t i = 0; i < labels.size(0); ++i) {
    const auto l = labels[i].item<std::int64_t>();
    const auto t = truth[i].item<std::int64_t>();
    auto& lt = label_of_truth[static_cast<std::size_t>(t)];
    auto& tl = truth_of_label[static_cast<std::size_t>(l)];
    if (lt == -1) lt = l;
    if (tl == -1) tl = t;
    if (lt != l || tl != t) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("k-means recovers well separated blobs", "[kmeans]") {
  auto gen = st::generator(1);
  const auto data = st::blobs(4, 60, 6, gen);
  const auto result = sa::kmeans(data.X, 4, /*seed=*/7);
  REQUIRE(result.labels.sizes() == torch::IntArrayRef{240});
  REQUIRE(result.labels.scalar_type() == torch::kInt64);
  CHECK(same_partition(result.labels, data.truth, 4));
  // The centers are the blob means and the inertia their within-blob sum of squares.
  const auto dev = (data.X - result.centers.index({result.labels})).pow(2).sum().item<double>();
  CHECK_THAT(result.inertia, Catch::Matchers::WithinRel(dev, 1e-12));
  CHECK(result.iterations >= 1);
}

TEST_CASE("k-means is deterministic for a seed and independent of the global generator", "[kmeans]") {
  auto gen = st::generator(2);
  const auto X = st::normal(300, 5, gen);  // no cluster structure: the seed decides the answer
  const auto a = sa::kmeans(X, 6, 11, 3);
  torch::manual_seed(12345);
  (void)torch::rand({1000});
  const auto b = sa::kmeans(X, 6, 11, 3);
  CHECK(torch::equal(a.labels, b.labels));
  CHECK(torch::equal(a.centers, b.centers));
  CHECK(a.inertia == b.inertia);
  CHECK(a.iterations == b.iterations);
}

TEST_CASE("k-means restarts never do worse than a single start and end at a Lloyd fixed point", "[kmeans]") {
  auto gen = st::generator(3);
  const auto X = st::normal(300, 4, gen);
  for (std::uint64_t seed : {0u, 1u, 2u}) {
    const auto one = sa::kmeans(X, 8, seed, 1);
    const auto many = sa::kmeans(X, 8, seed, 10);
    CHECK(many.inertia <= one.inertia);
    // Every point is assigned to its nearest center (computed here by brute force).
    const auto d = (X.unsqueeze(1) - many.centers.unsqueeze(0)).pow(2).sum(2);
    const auto nearest = std::get<0>(d.min(1));
    const auto assigned = d.gather(1, many.labels.unsqueeze(1)).squeeze(1);
    CHECK(torch::allclose(assigned, nearest, 0.0, 1e-9));
  }
}

TEST_CASE("k-means rejects impossible cluster counts", "[kmeans]") {
  const auto X = torch::zeros({3, 2}, torch::kFloat64);
  CHECK_THROWS_AS(sa::kmeans(X, 4, 0), strata::InputError);
  CHECK_THROWS_AS(sa::kmeans(X, 0, 0), strata::InputError);
  CHECK_THROWS_AS(sa::kmeans(torch::zeros({3}), 1, 0), strata::InputError);
  // k = N on identical points still terminates with zero inertia.
  CHECK(sa::kmeans(X, 3, 0).inertia == 0.0);
}

TEST_CASE("canonical labels order clusters by size, ties by first member", "[kmeans]") {
  // Sizes: cluster 2 → 3 points, cluster 0 → 2 (first at 1), cluster 3 → 2 (first at 0),
  // cluster 1 → empty.
  const auto labels = torch::tensor({3, 0, 2, 2, 3, 0, 2}, torch::kInt64);
  const auto canon = sa::canonical_labels(labels, 4);
  const auto expected = torch::tensor({1, 2, 0, 0, 1, 2, 0}, torch::kInt64);
  CHECK(torch::equal(canon, expected));
  CHECK_THROWS_AS(sa::canonical_labels(torch::tensor({0, 4}, torch::kInt64), 4), strata::InputError);
}

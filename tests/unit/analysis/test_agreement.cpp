#include "core/analysis/agreement.h"

#include <cmath>

#include "core/util/error.h"
#include "tests/catch.hpp"

namespace sa = strata::analysis;

namespace {
torch::Tensor labels(std::vector<std::int64_t> v) { return torch::tensor(v, torch::kInt64); }
}  // namespace

TEST_CASE("contingency table by hand", "[agreement]") {
  const auto t = sa::contingency(labels({0, 0, 0, 1, 1, 1}), 3, labels({0, 0, 1, 1, 2, 2}), 3);
  const auto expected = torch::tensor({{2, 1, 0}, {0, 1, 2}, {0, 0, 0}}, torch::kInt64);
  CHECK(torch::equal(t, expected));
  CHECK_THROWS_AS(sa::contingency(labels({0, 3}), 3, labels({0, 0}), 1), strata::InputError);
  CHECK_THROWS_AS(sa::contingency(labels({0, 1}), 2, labels({0}), 1), strata::InputError);
}

TEST_CASE("adjusted Rand index against hand-computed values", "[agreement]") {
  // Table [[2,1,0],[0,1,2]]: Σ C(n_ij,2) = 2, rows Σ C = 6, columns Σ C = 3, C(6,2) = 15:
  // expected 6·3/15 = 1.2, maximum (6+3)/2 = 4.5, ARI = (2 − 1.2)/(4.5 − 1.2) = 8/33.
  CHECK_THAT(sa::adjusted_rand_index(labels({0, 0, 0, 1, 1, 1}), labels({0, 0, 1, 1, 2, 2})), Catch::Matchers::WithinRel(8.0 / 33.0, 1e-14));
  // Only the partition matters, not the label values.
  CHECK_THAT(sa::adjusted_rand_index(labels({5, 5, 5, -1, -1, -1}), labels({9, 9, 4, 4, 0, 0})), Catch::Matchers::WithinRel(8.0 / 33.0, 1e-14));
  CHECK(sa::adjusted_rand_index(labels({0, 0, 1, 1}), labels({1, 1, 0, 0})) == 1.0);
  // [[1,1],[1,1]]: index 0, expected 2·2/6, maximum 2 → (0 − 2/3)/(2 − 2/3) = −1/2.
  CHECK_THAT(sa::adjusted_rand_index(labels({0, 0, 1, 1}), labels({0, 1, 0, 1})), Catch::Matchers::WithinRel(-0.5, 1e-14));
  CHECK(sa::adjusted_rand_index(labels({0, 0, 0}), labels({1, 1, 1})) == 1.0);
  CHECK(sa::adjusted_rand_index(labels({0, 1, 2}), labels({2, 0, 1})) == 1.0);
  CHECK(sa::adjusted_rand_index(labels({0, 0, 0, 0}), labels({0, 0, 1, 1})) == 0.0);
}

TEST_CASE("normalised mutual information against hand-computed values", "[agreement]") {
  // Same table: MI = (2/3) ln 2, H(a) = ln 2, H(b) = ln 3 → NMI = (2/3) ln 2 / ((ln 2 + ln 3)/2).
  const double expected = (2.0 / 3.0) * std::log(2.0) / (0.5 * (std::log(2.0) + std::log(3.0)));
  CHECK_THAT(sa::normalized_mutual_information(labels({0, 0, 0, 1, 1, 1}), labels({0, 0, 1, 1, 2, 2})), Catch::Matchers::WithinRel(expected, 1e-14));
  CHECK_THAT(sa::normalized_mutual_information(labels({3, 3, 7, 7}), labels({1, 1, 0, 0})), Catch::Matchers::WithinRel(1.0, 1e-14));
  CHECK(sa::normalized_mutual_information(labels({0, 0, 1, 1}), labels({0, 1, 0, 1})) == 0.0);
  CHECK(sa::normalized_mutual_information(labels({0, 0, 0}), labels({4, 4, 4})) == 1.0);
  CHECK(sa::normalized_mutual_information(labels({0, 0, 0, 0}), labels({0, 0, 1, 1})) == 0.0);
  CHECK_THROWS_AS(sa::normalized_mutual_information(labels({0, 1}), labels({0})), strata::InputError);
}

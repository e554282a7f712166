#include "core/analysis/agreement.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/analysis/tensor_support.h"
#include "core/util/error.h"

namespace strata::analysis {

namespace {

// Both labelings renumbered to 0..n−1 in order of value, and their contingency table.
torch::Tensor table_of(const torch::Tensor& a, const torch::Tensor& b, const char* what) {
  if (!a.defined() || !b.defined() || a.dim() != 1 || b.dim() != 1 || a.size(0) != b.size(0)) {
    fail_input("{}: expected two 1-D labelings of the same length", what);
  }
  if (a.is_floating_point() || b.is_floating_point()) fail_input("{}: labels must be integers", what);
  const auto ids = [](const torch::Tensor& t) {
    return std::get<1>(torch::_unique2(t.detach().to(torch::kCPU, torch::kInt64), /*sorted=*/true, /*return_inverse=*/true));
  };
  const auto ia = ids(a);
  const auto ib = ids(b);
  const auto na = a.size(0) ? ia.max().item<std::int64_t>() + 1 : 0;
  const auto nb = b.size(0) ? ib.max().item<std::int64_t>() + 1 : 0;
  return torch::bincount(ia * nb + ib, {}, na * nb).view({na, nb});
}

// Entropy (nats) of the distribution given by a count vector.
double entropy_of_counts(const torch::Tensor& counts) {
  const auto c = counts.to(torch::kFloat64);
  const double n = c.sum().item<double>();
  const auto p = c / n;
  return -torch::xlogy(p, p).sum().item<double>();
}

// Mutual information (nats) of a contingency table, term by term over its non-zero cells as
// sklearn's mutual_info_score does, with terms below machine epsilon set to 0 so that an
// uninformative labeling gives exactly 0.
double mutual_information(const torch::Tensor& table) {
  const auto cells = table.nonzero();
  const auto rows = table.sum(1).index({cells.select(1, 0)}).to(torch::kFloat64);
  const auto cols = table.sum(0).index({cells.select(1, 1)}).to(torch::kFloat64);
  const auto counts = table.index({cells.select(1, 0), cells.select(1, 1)}).to(torch::kFloat64);
  const double log_n = std::log(counts.sum().item<double>());
  const auto p = counts / counts.sum();
  const auto terms = p * (counts.log() - log_n) + p * (2.0 * log_n - (rows * cols).log());
  const auto kept = torch::where(terms.abs() < std::numeric_limits<double>::epsilon(), torch::zeros_like(terms), terms);
  return std::max(0.0, kept.sum().item<double>());
}

}  // namespace

torch::Tensor contingency(const torch::Tensor& a, int na, const torch::Tensor& b, int nb) {
  if (na < 1 || nb < 1) fail_input("contingency: label counts must be positive, got {} and {}", na, nb);
  const auto n = a.defined() && a.dim() == 1 ? a.size(0) : -1;
  const auto ia = detail::cpu_labels(a, n, na, "contingency (first labeling)");
  const auto ib = detail::cpu_labels(b, n, nb, "contingency (second labeling)");
  return torch::bincount(ia * nb + ib, {}, std::int64_t{na} * nb).view({na, nb});
}

double adjusted_rand_index(const torch::Tensor& a, const torch::Tensor& b) {
  const auto table = table_of(a, b, "adjusted Rand index");
  // Pair counts (ordered pairs of distinct points), as sklearn's pair confusion matrix.
  const auto n = table.sum().item<std::int64_t>();
  const auto sum_squares = table.pow(2).sum().item<std::int64_t>();
  const auto rows = table.sum(1);
  const auto cols = table.sum(0);
  const double same_both = static_cast<double>(sum_squares - n);
  const double same_a_only = static_cast<double>(rows.pow(2).sum().item<std::int64_t>() - sum_squares);
  const double same_b_only = static_cast<double>(cols.pow(2).sum().item<std::int64_t>() - sum_squares);
  const double different_both = static_cast<double>(n) * static_cast<double>(n) - same_both - same_a_only - same_b_only -
                                static_cast<double>(n);
  if (same_a_only == 0 && same_b_only == 0) return 1.0;
  const double tp = same_both, tn = different_both, fp = same_b_only, fn = same_a_only;
  return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
}

double normalized_mutual_information(const torch::Tensor& a, const torch::Tensor& b) {
  const auto table = table_of(a, b, "normalised mutual information");
  if (table.size(0) == table.size(1) && table.size(0) <= 1) return 1.0;  // nothing is split
  const double mi = mutual_information(table);
  if (mi == 0.0) return 0.0;
  const double mean_entropy = 0.5 * (entropy_of_counts(table.sum(1)) + entropy_of_counts(table.sum(0)));
  return mi / std::max(mean_entropy, std::numeric_limits<double>::epsilon());
}

}  // namespace strata::analysis

#include "core/analysis/geometry/correlation_dimension.h"

#include <cmath>

#include "core/analysis/geometry/knn.h"
#include "core/util/error.h"

namespace strata::analysis::geometry {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Run {
  std::int64_t a = 0, b = -1;  // intervals a..b, i.e. radii a..b+1
};

// Whether the local slopes of intervals a..b lie within the ratio 1 + tol of each other.
bool flat(const std::vector<double>& slope, std::int64_t a, std::int64_t b, double tol) {
  double lo = INFINITY, hi = -INFINITY;
  for (auto j = a; j <= b; ++j) {
    const double s = slope[static_cast<std::size_t>(j)];
    if (!std::isfinite(s)) return false;  // an interval outside the usable counts
    lo = std::min(lo, s), hi = std::max(hi, s);
  }
  return lo > 0 && hi <= lo * (1 + tol);
}

LineFit fit_run(const torch::Tensor& log_r, const torch::Tensor& log_c, const Run& run) {
  return fit_line(log_r.narrow(0, run.a, run.b - run.a + 2), log_c.narrow(0, run.a, run.b - run.a + 2));
}

}  // namespace

torch::Tensor log_radii(double lo, double hi, std::int64_t R) {
  return torch::logspace(std::log10(lo), std::log10(hi), R, 10.0, torch::kFloat64);
}

CorrelationIntegral pair_counts(const torch::Tensor& X, const torch::Tensor& radii) {
  const auto R = radii.numel();
  auto hist = torch::zeros({R + 1}, torch::kInt64);
  for_each_distance_block(X, [&](std::int64_t, const torch::Tensor& d) {
    // bucketize(right) gives the number of radii <= d, so d < r_j exactly when it is <= j.
    const auto bucket = torch::bucketize(d, radii.to(d.device(), d.scalar_type()), /*out_int32=*/false, /*right=*/true);
    hist += torch::bincount(bucket.flatten(), {}, R + 1).to(torch::kCPU, torch::kInt64);
  });
  // Every point's zero distance to itself lies below every radius.
  return {radii.to(torch::kFloat64), hist.narrow(0, 0, R).cumsum(0) - X.size(0), X.size(0)};
}

ScalingFit scaling_range(const CorrelationIntegral& c, double tolerance) {
  const auto n = static_cast<double>(c.points);
  const auto counts = c.counts.to(torch::kFloat64);
  const auto log_r = c.radii.log(), log_c = (counts / (n * (n - 1))).log();
  const auto ok = ((counts >= n) & (counts <= n * (n - 1) / 2)).contiguous();
  const auto R = c.radii.numel();
  std::vector<double> slope(static_cast<std::size_t>(std::max<std::int64_t>(R - 1, 0)), kNaN);
  for (std::int64_t j = 0; j + 1 < R; ++j)
    if (ok[j].item<bool>() && ok[j + 1].item<bool>())
      slope[static_cast<std::size_t>(j)] = ((log_c[j + 1] - log_c[j]) / (log_r[j + 1] - log_r[j])).item<double>();
  Run best;
  double best_rms = INFINITY;
  for (std::int64_t a = 0; a + 1 < R; ++a)
    for (std::int64_t b = a + 2; b + 1 < R && flat(slope, a, b, tolerance); ++b) {
      const double rms = fit_run(log_r, log_c, {a, b}).rms;
      if (b - a > best.b - best.a || (b - a == best.b - best.a && rms < best_rms)) best = {a, b}, best_rms = rms;
    }
  ScalingFit fit;
  if (best.b < best.a) {
    fit.flag = fmt::format("no scaling range: no 3 consecutive radii intervals with local slopes within {}x", 1 + tolerance);
    return fit;
  }
  const auto line = fit_run(log_r, log_c, best);
  fit.dimension = line.slope;
  fit.residual = line.rms;
  fit.lo = best.a;
  fit.hi = best.b + 1;
  fit.r_lo = c.radii[fit.lo].item<double>();
  fit.r_hi = c.radii[fit.hi].item<double>();
  return fit;
}

CorrelationDimension correlation_dimension(const torch::Tensor& X, const torch::Tensor& nearest, std::int64_t R,
                                           double tolerance) {
  const double lo = nearest.min().item<double>();
  const double hi = 2 * (X - X.mean(0)).norm(2, 1).max().item<double>();
  CorrelationDimension out;
  if (!(lo > 0) || !(hi > lo)) {
    out.fit.flag = "no scaling range: the points have no positive distance range";
    return out;
  }
  out.integral = pair_counts(X, log_radii(lo, hi, R));
  out.fit = scaling_range(out.integral, tolerance);
  return out;
}

double corrint_two_radii(const torch::Tensor& X, const torch::Tensor& distances, std::int64_t k1, std::int64_t k2) {
  if (k1 < 1 || k1 >= k2 || k2 > distances.size(1)) fail_input("CorrInt: need 1 <= k1 < k2 <= {}", distances.size(1));
  // np.median: the mean of the two middle values for an even count, as the linear quantile.
  const double r1 = torch::quantile(distances.select(1, k1 - 1), 0.5).item<double>();
  const double r2 = torch::quantile(distances.select(1, k2 - 1), 0.5).item<double>();
  const auto c = pair_counts(X, torch::tensor({r1, r2}, torch::kFloat64)).counts.to(torch::kFloat64);
  return ((c[1] / c[0]).log() / std::log(r2 / r1)).item<double>();
}

}  // namespace strata::analysis::geometry

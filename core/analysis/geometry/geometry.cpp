#include "core/analysis/geometry/geometry.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/ranges.h>

#include "core/analysis/geometry/boundary.h"
#include "core/analysis/geometry/correlation_dimension.h"
#include "core/analysis/geometry/knn.h"
#include "core/analysis/geometry/local_id.h"
#include "core/analysis/geometry/multiscale_id.h"
#include "core/analysis/geometry/neighbourhood_overlap.h"
#include "core/analysis/geometry/persistence.h"
#include "core/analysis/geometry/ph0_dimension.h"
#include "core/analysis/geometry/volume_growth.h"
#include "core/util/error.h"

namespace strata::analysis {

namespace {

namespace g = geometry;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Below this many distinct points no neighbour statistic means anything.
constexpr std::int64_t kMinPoints = 20;
// Below this many points a group's persistence diagram says nothing about its shape.
constexpr std::int64_t kMinPersistencePoints = 10;
// A share of duplicate rows above which the readouts describe far fewer points than were given.
constexpr double kDuplicateShare = 0.1;

// Adds results with their meaning.
class Out {
 public:
  explicit Out(GeometryResult& r) : r_(r) {}
  void tensor(const std::string& name, const torch::Tensor& t, std::string doc) {
    r_.tensors[name] = t.to(torch::kCPU).contiguous();
    r_.doc[name] = std::move(doc);
  }
  // Several results of one readout: <readout>/<name> each.
  struct Named {
    const char* name;
    torch::Tensor value;
    const char* doc;
  };
  void tensors(const std::string& readout, std::initializer_list<Named> items) {
    for (const auto& item : items) tensor(fmt::format("{}/{}", readout, item.name), item.value, item.doc);
  }
  void number(const std::string& name, double v, std::string doc) {
    r_.numbers[name] = v;
    r_.doc[name] = std::move(doc);
  }
  void flag(const std::string& readout, const std::string& why) {
    const auto name = readout + "/flag";
    auto& text = r_.attrs[name];
    text = text.empty() ? why : fmt::format("{}; {}", text, why);  // a readout may have several reasons
    r_.doc[name] = fmt::format("why the {} readouts are uninformative or partial", readout);
  }

 private:
  GeometryResult& r_;
};

// Every random choice of one readout from the experiment's seed and the readout's tag.
std::uint64_t derive(std::uint64_t seed, std::uint64_t tag) { return seed * 0x9E3779B97F4A7C15ULL + tag; }

struct Points {
  torch::Tensor X;       // [n, L] float64 on the device
  torch::Tensor rows;    // [n] int64: the input row of each
  torch::Tensor groups;  // [n] int64 in [0, G), undefined without groups
  std::int64_t G = 1;
};

Points prepare(const torch::Tensor& X, const torch::Tensor& groups, const GeometrySpec& spec, torch::Device device, Out& out) {
  auto d = g::distinct_points(X, device);
  const auto rows_in = X.size(0);
  Points p{d.points, d.rows, {}, 1};
  if (groups.defined()) {
    if (groups.dim() != 1 || groups.size(0) != rows_in || groups.is_floating_point())
      fail_input("geometry: groups must be {} integers, one per row", rows_in);
    const auto [values, inverse] = torch::_unique(groups.to(torch::kCPU, torch::kInt64), true, true);
    p.groups = inverse.index({p.rows});
    p.G = values.numel();
    out.tensor("groups/values", values, "the group label (as given) of each group index");
  }
  const auto distinct = p.X.size(0);
  if (distinct > spec.max_points) {
    const auto pick = g::seeded_subset(distinct, spec.max_points, derive(spec.seed, 1));
    p.X = p.X.index_select(0, pick.to(device));
    p.rows = p.rows.index({pick});
    if (p.groups.defined()) p.groups = p.groups.index({pick});
  }
  out.number("points/given", static_cast<double>(rows_in), "rows given");
  out.number("points/duplicates", static_cast<double>(d.duplicates), "rows dropped as exact duplicates of an earlier row");
  out.number("points/analysed", static_cast<double>(p.X.size(0)),
             "distinct points analysed (a seeded subsample when more than max_points)");
  out.tensor("points/rows", p.rows, "the input row of each analysed point (per-point tensors follow this order)");
  if (p.groups.defined()) out.tensor("points/groups", p.groups, "the group index of each analysed point");
  if (d.duplicates > kDuplicateShare * static_cast<double>(rows_in))
    out.flag("points", fmt::format("{} of {} rows are exact duplicates; every readout describes the {} distinct points",
                                   d.duplicates, rows_in, distinct));
  return p;
}

void gride(const g::Knn& nn, const GeometrySpec& spec, Out& out) {
  const auto s = g::gride_scaling(nn.distances, spec.gride_max_rank);
  if (s.ranks.numel() == 0) return out.flag("gride", "too few neighbours for one scale (2 needed)");
  out.tensors("gride", {
      {"ranks", s.ranks, "Gride scales: n1, the ratio being r_{2 n1} / r_{n1}"},
      {"id", s.id, "Gride maximum-likelihood intrinsic dimension at each scale (Denti et al. 2022)"},
      {"err", s.err, "its standard error (inverse square root of the Fisher information)"},
      {"scale", s.scale, "mean of r_{n1} and r_{2 n1} over points: the distance each scale probes"},
      {"discarded", s.discarded, "ratios left out as outliers (above q50 + 20 (q95 - q50)) per scale"}});
}

void decimation(const torch::Tensor& X, const g::Knn& nn, const GeometrySpec& spec, Out& out) {
  const auto plan = g::decimation_plan(X.size(0), spec.decimation_min, derive(spec.seed, 2));
  if (plan.sizes.empty()) return out.flag("twonn_scaling", fmt::format("no subset larger than decimation_min = {}", spec.decimation_min));
  const auto s = g::twonn_scaling(X, plan, nn.distances);
  out.tensors("twonn_scaling", {
      {"sizes", s.sizes, "TwoNN decimation: points per subset (N, N/2, N/4, ...)"},
      {"count", s.count, "seeded subsets of each size (about N / size; disjoint runs of one permutation where they fit)"},
      {"id", s.id, "mean TwoNN dimension over the subsets of each size"},
      {"std", s.std, "standard deviation of the subsets' TwoNN dimensions (0 for the one full set)"},
      {"err", s.err, "standard error of the mean, std / sqrt(count)"},
      {"scale", s.scale, "mean first- and second-neighbour distance in the subsets: the scale probed"}});
}

std::vector<std::int64_t> usable_ks(const GeometrySpec& spec, std::int64_t K, Out& out) {
  std::vector<std::int64_t> ks;
  for (const auto k : spec.ks)
    if (k <= K) ks.push_back(k);
  if (ks.size() < spec.ks.size())
    out.flag("local_id", fmt::format("{} of the {} ks exceed the {} neighbours available and are left out",
                                     spec.ks.size() - ks.size(), spec.ks.size(), K));
  return ks;
}

void put_quartiles(const std::string& name, const torch::Tensor& values, const Points& p, Out& out) {
  const auto groups = p.groups.defined() ? p.groups : torch::zeros({values.size(0)}, torch::kInt64);
  const auto q = g::group_quartiles(values, groups, p.G);
  out.tensors(name, {{"median", q.median, "median over each group's points [group, k] (one row without groups)"},
                     {"q25", q.q25, "first quartile over each group's points [group, k]"},
                     {"q75", q.q75, "third quartile over each group's points [group, k]"}});
}

void local_ids(const Points& p, const g::Knn& nn, const GeometrySpec& spec, Out& out) {
  const auto ks = usable_ks(spec, nn.distances.size(1), out);
  if (ks.empty()) return;
  const auto mle = g::local_mle(nn.distances, ks);
  const auto twonn = g::local_twonn(p.X, nn.indices, ks);
  out.tensors("local_id", {
      {"ks", torch::tensor(ks, torch::kInt64), "neighbour counts k of the local IDs' columns"},
      {"mle", mle, "pointwise Levina-Bickel MLE, (k - 1) / sum_{j<k} log(r_k / r_j) [point, k]"},
      {"twonn", twonn, "pointwise TwoNN on each point's k nearest neighbours [point, k]"}});
  put_quartiles("local_id/by_group/mle", mle, p, out);
  put_quartiles("local_id/by_group/twonn", twonn, p, out);
  const auto undefined = (~torch::isfinite(mle)).sum().item<std::int64_t>() + (~torch::isfinite(twonn)).sum().item<std::int64_t>();
  if (undefined > 0) out.flag("local_id", fmt::format("{} pointwise estimates are undefined (NaN): equal or zero neighbour distances", undefined));
}

void correlation(const Points& p, const g::Knn& nn, const GeometrySpec& spec, Out& out) {
  const auto c = g::correlation_dimension(p.X, nn.distances.select(1, 0), spec.corr_radii, spec.corr_tolerance);
  if (c.integral.radii.defined()) {
    out.tensor("correlation/radii", c.integral.radii, "radii of the correlation integral (log grid)");
    out.tensor("correlation/counts", c.integral.counts, "ordered pairs of distinct points closer than each radius");
  }
  out.number("correlation/dimension", c.fit.dimension, "correlation dimension: slope of log C(r) over the scaling range");
  out.number("correlation/r_lo", c.fit.r_lo, "the scaling range's smallest radius");
  out.number("correlation/r_hi", c.fit.r_hi, "the scaling range's largest radius");
  out.number("correlation/residual", c.fit.residual, "rms residual of log C(r) about the fitted line");
  if (!c.fit.flag.empty()) out.flag("correlation", c.fit.flag);
}

void volume(const Points& p, const GeometrySpec& spec, Out& out) {
  const auto n = p.X.size(0);
  if (n - 1 - spec.volume_k_lo < 6)
    return out.flag("volume", fmt::format("{} points: too few for volume_k_lo = {} (k_lo + 7 needed)", n, spec.volume_k_lo));
  const auto sample = g::seeded_subset(n, std::min(spec.volume_points, n), derive(spec.seed, 3));
  const auto v = g::volume_growth(p.X, sample, {spec.volume_k_lo, spec.volume_k_hi, spec.volume_ranks, spec.volume_rise, spec.volume_f});
  out.tensors("volume", {
      {"points", v.points, "analysed points whose volume growth is fitted (seeded sample)"},
      {"slope", v.slope, "slope of log N(r) against log r (r from the k_lo-th to the k_hi-th neighbour): local dimension"},
      {"slope_small", v.slope_small, "best two-segment fit: slope below the break"},
      {"slope_large", v.slope_large, "best two-segment fit: slope above the break"},
      {"break_radius", v.break_radius, "radius of the two-segment fit's break"},
      {"f", v.f, "(RSS1 - RSS2) / (RSS2 / (R - 3)): how much better two segments fit"},
      {"log_r", v.log_r, "the fitted curves: log r_j of each fitted point at the neighbour ranks j [point, rank]"},
      {"log_n", v.log_n, "log(j - 1/2) at those ranks: the log count of points within r_j"},
      {"violates", v.violates, "1 where the slope rises with r (volume_rise) and two segments fit better (volume_f)"}});
  out.number("volume/violating_share", v.violates.to(torch::kFloat64).mean().item<double>(),
             "share of the fitted points whose volume growth is no manifold's");
  if (spec.volume_k_hi > n - 1) out.flag("volume", fmt::format("volume_k_hi = {} capped at {} neighbours", spec.volume_k_hi, n - 1));
}

void ph0(const Points& p, const GeometrySpec& spec, Out& out) {
  const auto subsets = g::ph0_subsets(p.X.size(0), spec.ph0_sizes, spec.ph0_repeats, derive(spec.seed, 4));
  const auto r = g::ph0_dimension(p.X, subsets);
  out.tensor("ph0/sizes", r.sizes, "subsample sizes n (those up to the point count)");
  out.tensor("ph0/lengths", r.lengths, "total MST edge length L(n) of each seeded subsample [size, repeat]");
  out.number("ph0/dimension", r.dimension, "PH0 dimension 1 / (1 - slope), log L = a + slope log n");
  out.number("ph0/slope", r.slope, "slope of log L against log n");
  out.number("ph0/residual", r.residual, "rms residual of log L about the fitted line");
  if (!r.flag.empty()) out.flag("ph0", r.flag);
}

// One group's bars with the group index as a first column: [bars, 3] (group, birth, death).
torch::Tensor with_group(const torch::Tensor& bars, std::int64_t group) {
  return torch::cat({torch::full({bars.size(0), 1}, static_cast<double>(group), torch::kFloat64), bars}, 1);
}

// One group's persistence: its landmarks (analysed-point indices) and their Rips bars.
struct GroupBars {
  torch::Tensor landmarks;
  g::Diagram bars;
};

GroupBars group_persistence(const Points& p, const torch::Tensor& members, const GeometrySpec& spec, std::int64_t group) {
  const auto seed = derive(spec.seed, 5) + static_cast<std::uint64_t>(group);
  const auto first = g::seeded_subset(members.numel(), 1, seed)[0].item<std::int64_t>();
  const auto of_group = p.X.index_select(0, members.to(p.X.device()));
  const auto chosen = members.index({g::farthest_points(of_group, spec.persistence_landmarks, first)});
  return {chosen, g::rips_persistence(g::exact_distances(p.X.index_select(0, chosen.to(p.X.device()))))};
}

// Per group: farthest-point landmarks, their Rips bars up to H1, and what the bars say: the
// landmarks' spacing (median finite H0 bar, the scale below which everything is sampling) and the
// H1 bars long against it (loops of the group itself).
void persistence(const Points& p, const GeometrySpec& spec, Out& out) {
  if (!spec.persistence) return;
  const auto groups = p.groups.defined() ? p.groups : torch::zeros({p.X.size(0)}, torch::kInt64);
  const auto nan = [&] { return torch::full({p.G}, kNaN, torch::kFloat64); };
  auto spacing = nan(), longest = nan(), second = nan();
  auto loops = torch::zeros({p.G}, torch::kInt64), count = torch::zeros({p.G}, torch::kInt64);
  std::vector<torch::Tensor> landmarks, owners, h0, h1;
  std::vector<std::int64_t> small;
  for (std::int64_t g = 0; g < p.G; ++g) {
    const auto members = (groups == g).nonzero().select(1, 0);
    if (members.numel() < kMinPersistencePoints) {
      small.push_back(g);
      continue;
    }
    const auto [chosen, d] = group_persistence(p, members, spec, g);
    const auto joins = d.h0.select(1, 1);
    spacing[g] = joins.index({torch::isfinite(joins)}).median();
    const auto life = d.h1.select(1, 1) - d.h1.select(1, 0);  // longest first
    longest[g] = life.numel() > 0 ? life[0].item<double>() : 0.0;
    second[g] = life.numel() > 1 ? life[1].item<double>() : 0.0;
    loops[g] = (life >= spec.persistence_loop_factor * spacing[g]).sum();
    count[g] = chosen.numel();
    landmarks.push_back(chosen);
    owners.push_back(torch::full({chosen.numel()}, g, torch::kInt64));
    h0.push_back(with_group(d.h0, g));
    h1.push_back(with_group(d.h1, g));
  }
  if (!small.empty())
    out.flag("persistence", fmt::format("groups {} have fewer than {} points: no bars (NaN)", fmt::join(small, ", "),
                                        kMinPersistencePoints));
  if (landmarks.empty()) return;
  out.tensors("persistence", {
      {"landmarks", torch::cat(landmarks),
       "analysed points used as landmarks, group by group in the order farthest-point sampling chose them"},
      {"landmark_groups", torch::cat(owners), "the group index of each landmark"},
      {"landmark_count", count, "landmarks per group (persistence_landmarks, or the whole group when smaller) [group]"},
      {"h0", torch::cat(h0), "H0 bars of each group's Vietoris-Rips filtration [bar, (group, birth, death)], longest "
                            "first; one per group has death inf"},
      {"h1", torch::cat(h1), "H1 bars (loops, Z/2 coefficients) [bar, (group, birth, death)], longest first"},
      {"spacing", spacing, "median finite H0 bar: the landmarks' typical spacing, the scale of sampling noise [group]"},
      {"h1_longest", longest, "the longest H1 bar's length (death - birth; 0 without any) [group]"},
      {"h1_second", second, "the second longest H1 bar's length (0 without one) [group]"},
      {"h1_longest_rel", longest / spacing, "the longest H1 bar over the spacing: at least persistence_loop_factor "
                                           "for a loop of the group itself [group]"},
      {"loops", loops, "H1 bars at least persistence_loop_factor times the spacing: the group's loops [group]"}});
  out.number("persistence/loop_factor", spec.persistence_loop_factor,
             "persistence_loop_factor: the H1 bar, in spacings, counted as a loop");
}

void boundary(const Points& p, const g::Knn& nn, const GeometrySpec& spec, Out& out) {
  const auto k = std::min(spec.boundary_k, nn.indices.size(1));
  if (k < 3) return out.flag("boundary", "too few neighbours (3 needed)");
  const auto id = g::local_mle(nn.distances, {k}).select(1, 0);
  const auto b = g::boundary(nn.indices, p.groups, id, k, spec.boundary_mixing, spec.boundary_id_factor);
  out.tensors("boundary", {
      {"mixing", b.mixing, "fraction of each point's boundary_k neighbours from another group"},
      {"id_ratio", b.id_ratio, "each point's local MLE (boundary_k) over its group's median"},
      {"flagged", b.flagged, "analysed points flagged as where groups meet (mixing or local ID)"}});
  out.number("boundary/flagged_share", static_cast<double>(b.flagged.numel()) / static_cast<double>(p.X.size(0)),
             "share of the analysed points flagged");
  if (!p.groups.defined()) return out.flag("boundary", "no groups given: only the local-ID criterion applies (mixing is 0)");
  const auto overlap = 1.0 - b.mixing;
  out.number("overlap/label", overlap.mean().item<double>(), "mean fraction of a point's boundary_k neighbours in its own group");
  out.number("overlap/label_balanced", g::label_balanced_mean(overlap, p.groups),
             "the same with every group weighted equally (DADApy's weighted label overlap)");
}

}  // namespace

GeometryResult embedding_geometry(const torch::Tensor& X, const torch::Tensor& groups, const GeometrySpec& spec,
                                  torch::Device device) {
  torch::NoGradGuard no_grad;
  GeometryResult result;
  Out out(result);
  const auto p = prepare(X, groups, spec, device, out);
  const auto n = p.X.size(0);
  if (n < kMinPoints) {
    out.flag("geometry", fmt::format("{} distinct points: too few for any readout ({} needed)", n, kMinPoints));
    return result;
  }
  const auto K = std::min(n - 1, std::max({*std::max_element(spec.ks.begin(), spec.ks.end()), spec.boundary_k, spec.gride_max_rank}));
  const auto nn = g::knn(p.X, K);
  gride(nn, spec, out);
  decimation(p.X, nn, spec, out);
  local_ids(p, nn, spec, out);
  correlation(p, nn, spec, out);
  volume(p, spec, out);
  ph0(p, spec, out);
  persistence(p, spec, out);
  boundary(p, nn, spec, out);
  result.neighbours = nn.indices;
  return result;
}

}  // namespace strata::analysis

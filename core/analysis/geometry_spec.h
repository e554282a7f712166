#pragma once
// The embedding-geometry spec: a sweep's [geometry] table. Local and multiscale intrinsic
// dimension, correlation and PH0 dimension, volume growth, neighbourhood overlap, the points
// where strata meet and (optionally) persistent homology, all computed on one embedding
// (core/analysis/geometry/geometry.h).
#include <cstdint>
#include <vector>

#include "core/spec/fields.h"

namespace strata::analysis {

namespace geometry {
// Whether this build has GUDHI, which geometry.persistence needs (core/analysis/geometry/persistence.cpp).
bool persistence_available();
}  // namespace geometry

struct GeometrySpec {
  bool on = false;                                  // compute the geometry readouts at all
  std::vector<std::int64_t> ks{10, 20, 40};         // neighbours of the pointwise local IDs
  std::int64_t gride_max_rank = 64;                 // Gride's largest neighbour rank (r_2n at the last scale)
  std::int64_t decimation_min = 20;                 // smallest subset of the TwoNN decimation
  std::int64_t max_points = 5000;                   // seeded subsample cap (distinct points)
  std::int64_t corr_radii = 32;                     // radii of the correlation integral's log grid
  double corr_tolerance = 0.15;                     // the scaling range: local slopes within this ratio
  std::int64_t volume_points = 200;                 // points whose volume growth is fitted
  std::int64_t volume_k_lo = 10;                    // radius range: from the k_lo-th neighbour ...
  std::int64_t volume_k_hi = 200;                   // ... to the k_hi-th
  std::int64_t volume_ranks = 16;                   // neighbour ranks per point (log grid)
  double volume_rise = 2.0;                         // slope_large / slope_small that flags a point
  double volume_f = 10.0;                           // two-segment F statistic that flags a point
  std::vector<std::int64_t> ph0_sizes{250, 500, 1000, 2000};  // subsample sizes of the MST lengths
  std::int64_t ph0_repeats = 3;                     // subsamples per size
  std::int64_t boundary_k = 20;                     // neighbours of the mixing and overlap scores
  double boundary_mixing = 0.1;                     // neighbours from other groups that flag a point
  double boundary_id_factor = 2.0;                  // local ID this far (ratio) from its group's median flags it
  bool persistence = false;                         // H0/H1 persistent homology of each group (GUDHI)
  std::int64_t persistence_landmarks = 128;         // farthest-point landmarks per group
  double persistence_loop_factor = 1.2;             // an H1 bar this many spacings long is a loop
  std::uint64_t seed = 0;                           // from [experiment] seed

  static const spec::Schema<GeometrySpec>& schema();
};

inline const spec::Schema<GeometrySpec>& GeometrySpec::schema() {
  using S = GeometrySpec;
  static const auto sc = [] {
    spec::Schema<S> s("geometry", "Local and multiscale geometry of every embedding (pointwise and multiscale "
                                  "intrinsic dimension, volume growth, where strata meet).");
    s.add(spec::field(&S::on, "on", "compute the embedding-geometry readouts (adds work; changes no other result)", {},
                      spec::kNoId))
        .add(spec::field(&S::ks, "ks", "neighbour counts k of the pointwise local IDs (local MLE and local TwoNN)",
                         spec::range(3, 10000), spec::kNonEmpty))
        .add(spec::field(&S::gride_max_rank, "gride_max_rank",
                         "Gride: the largest neighbour rank; scales n1 = 1, 2, 4, ... with 2 n1 up to it",
                         spec::range(2, 1 << 16)))
        .add(spec::field(&S::decimation_min, "decimation_min",
                         "TwoNN decimation: subsets of N, N/2, N/4, ... points, all larger than this", spec::range(3, 1 << 30)))
        .add(spec::field(&S::max_points, "max_points",
                         "at most this many distinct points (a seeded subsample) enter every readout", spec::range(10, 1 << 30)))
        .add(spec::field(&S::corr_radii, "corr_radii", "radii of the correlation integral's logarithmic grid",
                         spec::range(8, 4096)))
        .add(spec::field(&S::corr_tolerance, "corr_tolerance",
                         "correlation dimension: the scaling range is the longest run of radii whose local slopes "
                         "differ by at most this ratio", spec::above(0, 10)))
        .add(spec::field(&S::volume_points, "volume_points", "points (seeded sample) whose volume growth is fitted",
                         spec::range(1, 1 << 20)))
        .add(spec::field(&S::volume_k_lo, "volume_k_lo", "volume growth: radii from each point's k_lo-th neighbour",
                         spec::range(1, 1 << 20)))
        .add(spec::field(&S::volume_k_hi, "volume_k_hi", "volume growth: radii up to each point's k_hi-th neighbour",
                         spec::range(2, 1 << 20)))
        .add(spec::field(&S::volume_ranks, "volume_ranks",
                         "volume growth: neighbour ranks j per point (logarithmic grid) where log N = log(j - 1/2) "
                         "is read against log r_j", spec::range(8, 1024)))
        .add(spec::field(&S::volume_rise, "volume_rise",
                         "volume growth: a point is flagged when its slope at large radii exceeds the slope at small "
                         "radii by this ratio ...", spec::above(1, 100)))
        .add(spec::field(&S::volume_f, "volume_f", "... and two segments fit better than one by this F statistic",
                         spec::above(0, 1e9)))
        .add(spec::field(&S::ph0_sizes, "ph0_sizes", "PH0 dimension: subsample sizes n of the MST lengths L(n)",
                         spec::range(3, 1 << 16), spec::kNonEmpty))
        .add(spec::field(&S::ph0_repeats, "ph0_repeats", "PH0 dimension: seeded subsamples per size",
                         spec::range(1, 1000)))
        .add(spec::field(&S::boundary_k, "boundary_k", "neighbours of the mixing score, the label overlap and the "
                                                       "boundary's local ID", spec::range(3, 10000)))
        .add(spec::field(&S::boundary_mixing, "boundary_mixing",
                         "a point with at least this fraction of neighbours from other groups is on a boundary",
                         spec::above(0, 1)))
        .add(spec::field(&S::boundary_id_factor, "boundary_id_factor",
                         "a point next to another group whose local ID differs from its group's median by this "
                         "factor is on a boundary (without groups: any such point)",
                         spec::above(1, 1000)))
        .add(spec::field(&S::persistence, "persistence",
                         "H0/H1 persistent homology (Vietoris-Rips, GUDHI) of each group's landmarks: bars, the "
                         "landmarks' spacing and the loops", {}, spec::kIdIfSet))
        .add(spec::field(&S::persistence_landmarks, "persistence_landmarks",
                         "persistence: landmarks per group by farthest-point sampling from a seeded point (the "
                         "filtration holds every triangle of them)", spec::range(10, 256), spec::kIdIfSet))
        .add(spec::field(&S::persistence_loop_factor, "persistence_loop_factor",
                         "persistence: an H1 bar at least this many times the landmarks' spacing (their median "
                         "H0 bar) is counted as a loop of the group; shorter ones are sampling noise (on discs, "
                         "cubes, spheres and Gaussians of 2 to 8 dimensions, 64 to 200 landmarks, noise bars stay "
                         "under 0.8 spacings; a flat torus's two loops reach 1.5 to 3.5)",
                         spec::above(0, 1000), spec::kIdIfSet))
        .add(spec::field(&S::seed, "seed", "from [experiment] seed", {}, spec::kInternal))
        .check([](const S& g, const spec::Reader& r, const std::string& where) {
          if (g.volume_k_hi - g.volume_k_lo < 6)
            r.fail(where, "geometry.volume_k_hi = {} must exceed volume_k_lo = {} by at least 6 (two segments of 3 ranks)",
                   g.volume_k_hi, g.volume_k_lo);
          if (g.persistence && !geometry::persistence_available())
            r.fail(where, "geometry.persistence = true needs GUDHI, which this build of strata lacks "
                          "(install libgudhi-dev and rebuild)");
        });
    return s;
  }();
  return sc;
}

}  // namespace strata::analysis

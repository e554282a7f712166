#pragma once
// The analysis job's spec: a sweep's [analysis] table (its stratum counts too). The struct
// and its schema are the one declaration of every analysis setting.
#include <algorithm>
#include <cstdint>
#include <string>

#include "core/spec/fields.h"

namespace strata::analysis {

struct AnalysisSpec {
  std::int64_t strata = 5;               // S, the number of strata (k-means clusters)
  std::string strata_on = "embeddings";  // embeddings | gating
  std::int64_t pca_dim = 0;              // PCA before k-means (0: none)
  std::int64_t kmeans_restarts = 10;
  double variance_fraction = 0.75;       // the PCA dimension's share of variance (Table 1)
  std::int64_t mle_k = 20;               // neighbours of the MLE estimators
  std::int64_t bootstrap = 0;            // subsamples for confidence intervals (0: none)
  std::int64_t min_stratum = 0;          // smaller strata are "too small" (0: max(mle_k + 1, 20))
  std::int64_t matched_n = 0;            // the common size of size-matched dimensions (0: the
                                         // smallest stratum that is not too small)
  std::int64_t matched_repeats = 10;     // subsets averaged per size-matched dimension
  bool null_model = false;               // also run every embedding's Gaussian null
  std::uint64_t seed = 0;                // from [experiment] seed

  std::int64_t floor() const { return min_stratum > 0 ? min_stratum : std::max<std::int64_t>(mle_k + 1, 20); }
  static const spec::Schema<AnalysisSpec>& schema();
};

inline const spec::Schema<AnalysisSpec>& AnalysisSpec::schema() {
  using S = AnalysisSpec;
  static const auto sc = [] {
    spec::Schema<S> s("analysis", "How every trained model's strata are found and measured.", /*grid=*/true);
    s.add(spec::field(&S::strata, "strata", "the number of strata S (k-means clusters); also read from [moe]",
                      spec::range(1, 1 << 20)))
        .add(spec::field(&S::strata_on, "strata_on", "what k-means clusters: the embeddings or the gating weights",
                         spec::one_of({"embeddings", "gating"})))
        .add(spec::field(&S::pca_dim, "pca_dim", "PCA before k-means (0: none)", spec::range(0, 1 << 16)))
        .add(spec::field(&S::kmeans_restarts, "kmeans_restarts", "k-means restarts (the best inertia is kept)",
                         spec::range(1, 10000)))
        .add(spec::field(&S::variance_fraction, "variance_fraction",
                         "the PCA dimension: components needed for this share of the variance (the paper's Table 1)",
                         spec::above(0, 1)))
        .add(spec::field(&S::mle_k, "mle_k", "neighbours of the MLE dimension estimators", spec::range(2, 10000)))
        .add(spec::field(&S::bootstrap, "bootstrap",
                         "subsamples (half the points, without replacement) for every interval (0: none)",
                         spec::range(0, 1000000)))
        .add(spec::field(&S::min_stratum, "min_stratum",
                         "strata with fewer points are reported as too small, never as numbers (0: max(mle_k + 1, 20))",
                         spec::range(0, 1 << 30)))
        .add(spec::field(&S::matched_n, "matched_n",
                         "every stratum's dimensions also at this many points, by subsampling without replacement "
                         "(0: the smallest stratum that is not too small)", spec::range(0, 1 << 30)))
        .add(spec::field(&S::matched_repeats, "matched_repeats", "subsets averaged per size-matched dimension",
                         spec::range(1, 10000)))
        .add(spec::field(&S::null_model, "null_model",
                         "also embed and analyse every embedding's Gaussian null (adds jobs; no analysis changes)", {},
                         spec::kNoId))
        .add(spec::field(&S::seed, "seed", "from [experiment] seed", {}, spec::kInternal));
    return s;
  }();
  return sc;
}

}  // namespace strata::analysis

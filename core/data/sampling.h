#pragma once
// Choosing the rows of a corpus: N per source, seeded or the first N, optionally balanced by
// label and bounded in length.
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

#include "core/data/corpus.h"

namespace strata {

struct SamplingSpec {
  std::size_t per_source = 0;  // 0 = every row (that passes the length bounds)
  std::uint64_t seed = 0;
  std::string mode = "random";  // "random": seeded, without replacement; "first": the first
                                // N rows of the split, as the authors' code takes them
  bool balance_labels = false;  // equal counts per label where possible
  std::size_t min_chars = 0, max_chars = 0;  // code points; 0 = unbounded; before sampling
};

// Each source (in order of first appearance) is sampled on its own:
//   1. rows outside [min_chars, max_chars] (Unicode code points) are dropped;
//   2. N = per_source rows are chosen: "first" takes the first N in order, "random" draws N
//      without replacement with a generator seeded from (seed, source name) — so adding or
//      removing another source never changes this source's rows;
//   3. balance_labels splits N over the source's labels (ascending) as evenly as possible:
//      floor(N / k) each, the remainder one each to the smallest labels, and a label with
//      fewer rows gives its shortfall to the others in the same way. With per_source = 0
//      every label gets as many rows as the rarest one has. Each label's share is then taken
//      as in step 2 ("first": that label's first rows; "random": drawn, labels in ascending
//      order from the same generator).
// The sample keeps the input order (rows sorted by their position in `rows`): the most
// reproducible order, independent of the draw sequence. Asking for more rows than a source
// has (after the bounds) is an InputError with both counts; so is an unknown mode.
Corpus sample_rows(const Corpus& rows, const SamplingSpec& s);

namespace data {
// Uniform integer in [0, n) from raw 64-bit outputs, by rejection (no modulo bias): the same
// values from every standard library, unlike std::uniform_int_distribution.
std::uint64_t uniform_below(std::mt19937_64& gen, std::uint64_t n);
}  // namespace data

}  // namespace strata

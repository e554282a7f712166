#include "core/nn/embed_shards.h"

#include <algorithm>

#include "core/util/error.h"

namespace strata::nn {

std::vector<std::size_t> balanced_cuts(const std::vector<std::int64_t>& costs, std::int64_t parts) {
  if (parts < 1) fail_run("balanced_cuts: {} parts (at least 1)", parts);
  std::vector<std::int64_t> prefix(costs.size() + 1, 0);
  for (std::size_t i = 0; i < costs.size(); ++i) {
    if (costs[i] < 0) fail_run("balanced_cuts: negative cost {} at {}", costs[i], i);
    prefix[i + 1] = prefix[i] + costs[i];
  }
  const std::int64_t total = prefix.back();
  // Distances are compared scaled by `parts` so the shares k * total / parts stay integers.
  const auto distance = [&](std::size_t i, std::int64_t k) {
    const std::int64_t d = prefix[i] * parts - k * total;
    return d < 0 ? -d : d;
  };
  std::vector<std::size_t> cuts{0};
  std::size_t i = 0;
  for (std::int64_t k = 1; k < parts; ++k) {
    // The running total grows and so do the shares: the closest boundary never moves back.
    // Ties move on, past items of no cost.
    while (i + 1 < prefix.size() && distance(i + 1, k) <= distance(i, k)) ++i;
    cuts.push_back(i);
  }
  cuts.push_back(costs.size());
  return cuts;
}

std::int64_t padded_tokens(const std::vector<std::int64_t>& batch, const std::vector<std::int64_t>& lengths) {
  std::int64_t longest = 0;
  for (auto r : batch) longest = std::max(longest, lengths.at(static_cast<std::size_t>(r)));
  return static_cast<std::int64_t>(batch.size()) * longest;
}

std::vector<std::vector<std::int64_t>> shard_batches(const std::vector<std::int64_t>& lengths, const EmbedOptions& opt,
                                                     std::int64_t shard, std::int64_t shards) {
  if (shard < 0 || shard >= shards) fail_run("shard {} of {} does not exist", shard, shards);
  auto batches = embed_batches(lengths, opt);
  std::vector<std::int64_t> costs;
  costs.reserve(batches.size());
  for (const auto& b : batches) costs.push_back(padded_tokens(b, lengths));
  const auto cuts = balanced_cuts(costs, shards);
  const auto first = batches.begin() + static_cast<std::ptrdiff_t>(cuts[static_cast<std::size_t>(shard)]);
  const auto last = batches.begin() + static_cast<std::ptrdiff_t>(cuts[static_cast<std::size_t>(shard) + 1]);
  return {std::make_move_iterator(first), std::make_move_iterator(last)};
}

}  // namespace strata::nn

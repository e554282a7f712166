#pragma once
// Splitting one embedding job into shards that separate processes compute. A shard is a
// contiguous run of the batches embed_ids forms (embed_batches), so every row is computed in
// the very batch it would have been in unsharded, and the shards together give embed_ids'
// rows bit for bit. The runs are cut so the shards hold nearly equal padded-token counts
// (the tokens the encoder computes on), not equal row counts: long rows cost more.
// Everything here is a function of the rows' token lengths and the options only, so every
// process computes the same split.
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/nn/encoder.h"

namespace strata::nn {

// Cuts items of these costs, in order, into `parts` contiguous ranges: returns parts + 1
// boundaries 0 = b_0 <= b_1 <= ... <= b_parts = costs.size(), part k being [b_k, b_{k+1}).
// Each inner boundary sits where the running total comes closest to its share k * total /
// parts, so every part's total is within the largest single cost of total / parts. Parts
// are empty when there are more parts than items. Costs must not be negative.
std::vector<std::size_t> balanced_cuts(const std::vector<std::int64_t>& costs, std::int64_t parts);

// Rows x longest row of a batch (row indices into `lengths`).
std::int64_t padded_tokens(const std::vector<std::int64_t>& batch, const std::vector<std::int64_t>& lengths);

// The batches of shard `shard` of `shards` (0-based) for rows of these token lengths
// (embed_lengths): a contiguous run of embed_batches(lengths, opt), cut by balanced_cuts of
// the batches' padded tokens. Empty when there are more shards than batches.
std::vector<std::vector<std::int64_t>> shard_batches(const std::vector<std::int64_t>& lengths,
                                                     const EmbedOptions& opt, std::int64_t shard,
                                                     std::int64_t shards);

// One shard of embed_texts' work: every text is tokenised (the split depends on all the
// rows' lengths; tokenising is cheap next to the encoder), then the rows of the shard's
// batches are embedded.
struct TextShard {
  torch::Tensor rows;       // [R] int64: indices of the texts embedded here
  Embedded embedded;        // their rows (pooling "tokens": their kept tokens), in that order
  std::int64_t tokens = 0;  // padded tokens computed
};
TextShard embed_texts_shard(Encoder& enc, const strata::text::Tokenizer& tok, const std::vector<std::string>& texts,
                            const EmbedOptions& opt, torch::Device device, std::int64_t shard, std::int64_t shards);

}  // namespace strata::nn

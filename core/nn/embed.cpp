// From token-id rows to pooled vectors: length-sorted batches, restored to input order.
#include <algorithm>
#include <numeric>

#include "core/nn/encoder.h"
#include "core/nn/pooling.h"
#include "core/util/error.h"
#include "core/util/log.h"

namespace strata::nn {

namespace {

// Row order in which batches are formed. mean-with-padding keeps input order: its value
// depends on the batch's longest row, and the reference code batches consecutive rows.
std::vector<std::int64_t> batch_order(const std::vector<std::int64_t>& lengths, const EmbedOptions& opt) {
  std::vector<std::int64_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  if (opt.sort_by_length && opt.pooling != "mean-with-padding")
    std::stable_sort(order.begin(), order.end(),
                     [&](std::int64_t a, std::int64_t b) { return lengths[a] > lengths[b]; });
  return order;
}

// One right-padded batch on the host: ids [b, T] int64, mask [b, T] bool.
std::pair<torch::Tensor, torch::Tensor> host_batch(const std::vector<std::vector<std::int32_t>>& ids,
                                                   const std::vector<std::int64_t>& lengths,
                                                   const std::int64_t* rows, std::int64_t count,
                                                   std::int32_t pad_id) {
  std::int64_t T = 0;
  for (std::int64_t r = 0; r < count; ++r) T = std::max(T, lengths[rows[r]]);
  torch::Tensor batch_ids = torch::full({count, T}, static_cast<std::int64_t>(pad_id), torch::kInt64);
  torch::Tensor mask = torch::zeros({count, T}, torch::kBool);
  auto* id_ptr = batch_ids.data_ptr<std::int64_t>();
  auto* mask_ptr = mask.data_ptr<bool>();
  for (std::int64_t r = 0; r < count; ++r) {
    const auto& row = ids[rows[r]];
    const std::int64_t len = lengths[rows[r]];
    std::copy(row.begin(), row.begin() + len, id_ptr + r * T);
    std::fill(mask_ptr + r * T, mask_ptr + r * T + len, true);
  }
  return {batch_ids, mask};
}

// "cuda" names whichever CUDA device is current; "cuda:1" one in particular.
bool same_device(const torch::Device& actual, const torch::Device& asked) {
  return actual.type() == asked.type() && (!asked.has_index() || asked.index() == actual.index());
}

}  // namespace

torch::Tensor embed_ids(Encoder& enc, const std::vector<std::vector<std::int32_t>>& ids, std::int32_t pad_id,
                        const EmbedOptions& opt, torch::Device device) {
  check_pooling(opt.pooling);
  if (opt.batch_size < 1) fail_input("batch_size {} must be at least 1", opt.batch_size);
  if (opt.max_tokens < 1) fail_input("max_tokens {} must be at least 1", opt.max_tokens);
  c10::InferenceMode guard;

  const std::int64_t limit = std::min(opt.max_tokens, enc.max_positions());
  const auto N = static_cast<std::int64_t>(ids.size());
  std::vector<std::int64_t> lengths(ids.size());
  for (std::int64_t i = 0; i < N; ++i) {
    if (ids[i].empty()) fail_input("row {} has no tokens (nothing to embed)", i);
    lengths[i] = std::min<std::int64_t>(static_cast<std::int64_t>(ids[i].size()), limit);
  }
  const std::vector<std::int64_t> order = batch_order(lengths, opt);

  torch::Tensor out = torch::empty({N, enc.hidden_size()}, torch::kFloat32);
  // Pooled rows wait on the device and are copied back in large chunks, so the host keeps
  // queuing work instead of waiting for every batch.
  std::vector<torch::Tensor> pending_rows, pending_index;
  std::int64_t pending_bytes = 0;
  const auto flush = [&] {
    if (pending_rows.empty()) return;
    out.index_copy_(0, torch::cat(pending_index), torch::cat(pending_rows).to(torch::kCPU));
    pending_rows.clear();
    pending_index.clear();
    pending_bytes = 0;
  };

  for (std::int64_t start = 0; start < N; start += opt.batch_size) {
    const std::int64_t count = std::min(opt.batch_size, N - start);
    const std::int64_t* rows = order.data() + start;
    auto [batch_ids, mask] = host_batch(ids, lengths, rows, count, pad_id);
    const torch::Tensor hidden = enc.forward(batch_ids, mask);
    if (!same_device(hidden.device(), device))
      fail_run("embed_ids: the encoder runs on {} but {} was asked for", hidden.device().str(), device.str());
    torch::Tensor pooled = pool(hidden, mask.to(device, /*non_blocking=*/true), opt.pooling);
    if (opt.normalize)
      pooled = torch::nn::functional::normalize(pooled, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
    pending_rows.push_back(pooled);
    pending_index.push_back(torch::from_blob(const_cast<std::int64_t*>(rows), {count}, torch::kInt64).clone());
    pending_bytes += pooled.numel() * 4;
    if (pending_bytes > (std::int64_t{256} << 20)) flush();
    log::debug("embedded rows {}..{} of {} (padded length {})", start, start + count, N, mask.size(1));
  }
  flush();
  return out;
}

}  // namespace strata::nn

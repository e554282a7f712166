// From token-id rows to pooled vectors: length-sorted batches, restored to input order.
#include <algorithm>
#include <numeric>

#include "core/nn/encoder.h"
#include "core/nn/pooling.h"
#include "core/util/crash_point.h"
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

// How many rows, from position `start` of `order`, form the next batch: at most batch_size,
// and under max_batch_tokens padded tokens when that is set (always at least one row).
// mean-with-padding takes batches of exactly batch_size rows, as its reference does: its value
// depends on the batch's longest row.
std::int64_t batch_rows(const std::vector<std::int64_t>& lengths, const std::vector<std::int64_t>& order,
                        std::int64_t start, const EmbedOptions& opt) {
  const auto N = static_cast<std::int64_t>(order.size());
  const std::int64_t most = std::min(opt.batch_size, N - start);
  if (opt.max_batch_tokens <= 0 || opt.pooling == "mean-with-padding") return most;
  std::int64_t count = 1, longest = lengths[order[start]];
  while (count < most) {
    const std::int64_t width = std::max(longest, lengths[order[start + count]]);
    if ((count + 1) * width > opt.max_batch_tokens) break;
    longest = width;
    ++count;
  }
  return count;
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

// The model's folder, for messages.
std::string model_name(const Encoder& enc) {
  return enc.snapshot().empty() ? enc.architecture() + " encoder" : enc.snapshot().string();
}

void check_options(const EmbedOptions& opt) {
  check_pooling(opt.pooling);
  if (opt.batch_size < 1) fail_input("batch_size {} must be at least 1", opt.batch_size);
  if (opt.max_tokens < 1) fail_input("max_tokens {} must be at least 1", opt.max_tokens);
  if (opt.max_batch_tokens < 0) fail_input("max_batch_tokens {} must not be negative", opt.max_batch_tokens);
}

// Embeds `batches` (rows of `ids`) and writes the pooled rows of batch b to the rows dest[b]
// of `out`. embed_ids and embed_id_batches both run every batch through here, so a batch
// gives the same numbers whichever of them computes it.
void embed_into(Encoder& enc, const std::vector<std::vector<std::int32_t>>& ids, const std::vector<std::int64_t>& lengths,
                const std::vector<std::vector<std::int64_t>>& batches, const std::vector<std::vector<std::int64_t>>& dest,
                std::int32_t pad_id, const EmbedOptions& opt, torch::Device device, torch::Tensor& out) {
  c10::InferenceMode guard;
  enc.set_padding_outputs_read(opt.pooling == "mean-with-padding");
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

  std::int64_t done = 0;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const auto count = static_cast<std::int64_t>(batches[b].size());
    auto [batch_ids, mask] = host_batch(ids, lengths, batches[b].data(), count, pad_id);
    const torch::Tensor hidden = enc.forward(batch_ids, mask);
    if (!same_device(hidden.device(), device))
      fail_run("embed_ids: the encoder runs on {} but {} was asked for", hidden.device().str(), device.str());
    torch::Tensor pooled = pool(hidden, mask.to(device, /*non_blocking=*/true), opt.pooling);
    if (opt.normalize)
      pooled = torch::nn::functional::normalize(pooled, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
    pending_rows.push_back(pooled);
    pending_index.push_back(torch::tensor(dest[b], torch::kInt64));
    pending_bytes += pooled.numel() * 4;
    if (pending_bytes > (std::int64_t{256} << 20)) flush();
    if (b == 0) crash_point("embed");
    log::debug("embedded rows {}..{} of {} (padded length {})", done, done + count, out.size(0), mask.size(1));
    done += count;
  }
  flush();
  // NaN or infinite weights (or an overflow in half precision) give rows that must not be
  // stored as an embedding.
  const std::int64_t bad = torch::isfinite(out).all(1).logical_not().sum().item<std::int64_t>();
  if (bad > 0)
    fail_input("{}: {} of {} embedded rows are NaN or infinite (NaN or infinite weights, or an overflow in {})",
               model_name(enc), bad, out.size(0), opt.dtype);
}

}  // namespace

std::vector<std::int64_t> embed_lengths(const Encoder& enc, const std::vector<std::vector<std::int32_t>>& ids,
                                        const EmbedOptions& opt) {
  const std::int64_t limit = std::min(opt.max_tokens, enc.max_positions());
  std::vector<std::int64_t> lengths(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].empty()) fail_input("row {} has no tokens (nothing to embed)", i);
    lengths[i] = std::min<std::int64_t>(static_cast<std::int64_t>(ids[i].size()), limit);
    // An id past the embedding table would index outside it.
    for (std::int64_t t = 0; t < lengths[i]; ++t) {
      const std::int64_t id = ids[i][static_cast<std::size_t>(t)];
      if (id < 0 || (enc.vocab_size() > 0 && id >= enc.vocab_size()))
        fail_input("{}: token id {} (row {}) is outside the model's embedding table of {} rows (config.json "
                   "vocab_size): the tokenizer does not belong to this model",
                   model_name(enc), id, i, enc.vocab_size());
    }
  }
  return lengths;
}

std::vector<std::vector<std::int64_t>> embed_batches(const std::vector<std::int64_t>& lengths, const EmbedOptions& opt) {
  check_options(opt);
  const std::vector<std::int64_t> order = batch_order(lengths, opt);
  const auto N = static_cast<std::int64_t>(order.size());
  std::vector<std::vector<std::int64_t>> batches;
  for (std::int64_t start = 0, count = 0; start < N; start += count) {
    count = batch_rows(lengths, order, start, opt);
    batches.emplace_back(order.begin() + start, order.begin() + start + count);
  }
  return batches;
}

torch::Tensor embed_ids(Encoder& enc, const std::vector<std::vector<std::int32_t>>& ids, std::int32_t pad_id,
                        const EmbedOptions& opt, torch::Device device) {
  check_options(opt);
  const auto lengths = embed_lengths(enc, ids, opt);
  const auto batches = embed_batches(lengths, opt);
  torch::Tensor out = torch::empty({static_cast<std::int64_t>(ids.size()), enc.hidden_size()}, torch::kFloat32);
  embed_into(enc, ids, lengths, batches, /*dest=*/batches, pad_id, opt, device, out);  // rows back to input order
  return out;
}

torch::Tensor embed_id_batches(Encoder& enc, const std::vector<std::vector<std::int32_t>>& ids, std::int32_t pad_id,
                               const EmbedOptions& opt, torch::Device device,
                               const std::vector<std::vector<std::int64_t>>& batches) {
  check_options(opt);
  const auto lengths = embed_lengths(enc, ids, opt);
  std::vector<std::vector<std::int64_t>> dest;
  std::int64_t rows = 0;
  for (const auto& b : batches) {
    for (auto r : b)
      if (r < 0 || r >= static_cast<std::int64_t>(ids.size())) fail_run("embed_id_batches: no row {}", r);
    dest.emplace_back(b.size());
    std::iota(dest.back().begin(), dest.back().end(), rows);
    rows += static_cast<std::int64_t>(b.size());
  }
  torch::Tensor out = torch::empty({rows, enc.hidden_size()}, torch::kFloat32);
  embed_into(enc, ids, lengths, batches, dest, pad_id, opt, device, out);
  return out;
}

}  // namespace strata::nn

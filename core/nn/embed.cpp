// From token-id rows to pooled vectors: length-sorted batches, packed without padding (right-padded
// for mean-with-padding), restored to input order.
#include <algorithm>
#include <numeric>
#include <random>

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

// One batch on the host, in the layout the encoder runs it: right-padded (ids [b, T] int64, mask
// [b, T] bool) or its rows' tokens packed, no padding.
struct HostBatch {
  torch::Tensor ids, mask;
  PackedRows packed;
  std::vector<std::int64_t> first;  // where row r's first token lies in the [tokens, H] hidden rows
  std::int64_t width = 0;           // the padded length, or the longest packed row (for the log)
};

HostBatch host_padded(const std::vector<std::vector<std::int32_t>>& ids, const std::vector<std::int64_t>& lengths,
                      const std::int64_t* rows, std::int64_t count, std::int32_t pad_id) {
  HostBatch hb;
  std::int64_t T = 0;
  for (std::int64_t r = 0; r < count; ++r) T = std::max(T, lengths[rows[r]]);
  hb.ids = torch::full({count, T}, static_cast<std::int64_t>(pad_id), torch::kInt64);
  hb.mask = torch::zeros({count, T}, torch::kBool);
  auto* id_ptr = hb.ids.data_ptr<std::int64_t>();
  auto* mask_ptr = hb.mask.data_ptr<bool>();
  for (std::int64_t r = 0; r < count; ++r) {
    const auto& row = ids[rows[r]];
    const std::int64_t len = lengths[rows[r]];
    std::copy(row.begin(), row.begin() + len, id_ptr + r * T);
    std::fill(mask_ptr + r * T, mask_ptr + r * T + len, true);
    hb.first.push_back(r * T);
  }
  hb.width = T;
  return hb;
}

HostBatch host_packed(const std::vector<std::vector<std::int32_t>>& ids, const std::vector<std::int64_t>& lengths,
                      const std::int64_t* rows, std::int64_t count) {
  HostBatch hb;
  auto& offsets = hb.packed.offsets;
  offsets.push_back(0);
  for (std::int64_t r = 0; r < count; ++r) {
    offsets.push_back(offsets.back() + lengths[rows[r]]);
    hb.width = std::max(hb.width, lengths[rows[r]]);
  }
  hb.packed.ids = torch::empty({offsets.back()}, torch::kInt64);
  auto* id_ptr = hb.packed.ids.data_ptr<std::int64_t>();
  for (std::int64_t r = 0; r < count; ++r) {
    const auto& row = ids[rows[r]];
    std::copy(row.begin(), row.begin() + lengths[rows[r]], id_ptr + offsets[static_cast<std::size_t>(r)]);
  }
  hb.first.assign(offsets.begin(), offsets.end() - 1);
  return hb;
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

// Where embed_into writes each batch's rows: dest[b] lists the output rows of batch b's outputs,
// one per input row, or with pooling "tokens" one per kept token (rows in batch order, each
// row's tokens in position order).
struct RowPlan {
  std::vector<std::vector<std::int64_t>> dest;
  std::vector<std::vector<std::int64_t>> kept;  // pooling "tokens": kept_tokens of every row
  std::int64_t rows = 0;                        // output rows in all
};

// The flat indices (first token of the row + position) of a batch's kept tokens in its
// [tokens, H] hidden rows.
torch::Tensor token_gather(const std::vector<std::int64_t>& batch, const RowPlan& plan,
                           const std::vector<std::int64_t>& first) {
  std::vector<std::int64_t> flat;
  for (std::size_t r = 0; r < batch.size(); ++r)
    for (std::int64_t pos : plan.kept[static_cast<std::size_t>(batch[r])]) flat.push_back(first[r] + pos);
  return torch::tensor(flat, torch::kInt64);
}

// What a batch's rows are read with: the kept tokens' indices on the device (pooling "tokens"),
// else the padding mask on the device (padded) or the rows' offsets on the host (packed).
struct RowReader {
  torch::Tensor gather, mask;
  const std::vector<std::int64_t>* offsets = nullptr;
};

// The batch's rows for one layer: pooled, or the kept tokens' states.
torch::Tensor batch_rows_of(const torch::Tensor& hidden, const RowReader& reader, const EmbedOptions& opt) {
  torch::Tensor rows;
  if (reader.gather.defined())
    rows = hidden.reshape({-1, hidden.size(-1)}).index_select(0, reader.gather).to(torch::kFloat32);
  else if (reader.offsets)
    rows = pool_packed(hidden, *reader.offsets, opt.pooling);
  else
    rows = pool(hidden, reader.mask, opt.pooling);
  if (opt.normalize)
    rows = torch::nn::functional::normalize(rows, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
  return rows;
}

// Embeds `batches` (rows of `ids`) into one output per layer, rows placed by `plan`. embed_ids,
// embed_rows and embed_id_batches all run every batch through here, so a batch gives the same
// numbers whichever of them computes it.
std::vector<torch::Tensor> embed_into(Encoder& enc, const std::vector<std::vector<std::int32_t>>& ids,
                                      const std::vector<std::int64_t>& lengths,
                                      const std::vector<std::vector<std::int64_t>>& batches, const RowPlan& plan,
                                      std::int32_t pad_id, const EmbedOptions& opt, torch::Device device) {
  c10::InferenceMode guard;
  const std::vector<std::int64_t> layers = resolve_layers(opt.layers, enc.num_layers());
  const bool tokens = opt.pooling == "tokens";
  // Only mean-with-padding reads hidden states at padding; every other pooling runs packed.
  const bool packed = opt.packed && opt.pooling != "mean-with-padding";
  enc.set_padding_outputs_read(opt.pooling == "mean-with-padding");
  std::vector<torch::Tensor> out;
  for (std::size_t j = 0; j < layers.size(); ++j) out.push_back(torch::empty({plan.rows, enc.hidden_size()}, torch::kFloat32));
  // Rows wait on the device and are copied back in large chunks, so the host keeps queuing
  // work instead of waiting for every batch.
  std::vector<std::vector<torch::Tensor>> pending(layers.size());
  std::vector<torch::Tensor> pending_index;
  std::int64_t pending_bytes = 0;
  const auto flush = [&] {
    if (pending_index.empty()) return;
    const torch::Tensor index = torch::cat(pending_index);
    for (std::size_t j = 0; j < layers.size(); ++j) out[j].index_copy_(0, index, torch::cat(pending[j]).to(torch::kCPU));
    for (auto& p : pending) p.clear();
    pending_index.clear();
    pending_bytes = 0;
  };

  std::int64_t done = 0;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const auto count = static_cast<std::int64_t>(batches[b].size());
    const HostBatch hb = packed ? host_packed(ids, lengths, batches[b].data(), count)
                                : host_padded(ids, lengths, batches[b].data(), count, pad_id);
    RowReader reader;
    if (tokens) reader.gather = token_gather(batches[b], plan, hb.first).to(device);
    else if (packed) reader.offsets = &hb.packed.offsets;
    else reader.mask = hb.mask.to(device, /*non_blocking=*/true);
    const LayerSink sink = [&](std::int64_t layer, const torch::Tensor& hidden) {
      if (!same_device(hidden.device(), device))
        fail_run("embed_ids: the encoder runs on {} but {} was asked for", hidden.device().str(), device.str());
      const auto j = static_cast<std::size_t>(std::find(layers.begin(), layers.end(), layer) - layers.begin());
      pending[j].push_back(batch_rows_of(hidden, reader, opt));
      pending_bytes += pending[j].back().numel() * 4;
    };
    if (packed) enc.forward_packed_layers(hb.packed, layers, sink);
    else enc.forward_layers(hb.ids, hb.mask, layers, sink);
    pending_index.push_back(torch::tensor(plan.dest[b], torch::kInt64));
    if (pending_bytes > (std::int64_t{256} << 20)) flush();
    if (b == 0) crash_point("embed");
    log::debug("embedded rows {}..{} of {} ({} length {})", done, done + count, ids.size(),
               packed ? "longest" : "padded", hb.width);
    done += count;
  }
  flush();
  // NaN or infinite weights (or an overflow in half precision) give rows that must not be
  // stored as an embedding.
  for (std::size_t j = 0; j < layers.size(); ++j) {
    const std::int64_t bad = torch::isfinite(out[j]).all(1).logical_not().sum().item<std::int64_t>();
    if (bad > 0)
      fail_input("{}: {} of {} embedded rows of layer {} are NaN or infinite (NaN or infinite weights, or an overflow "
                 "in {})", model_name(enc), bad, out[j].size(0), layers[j], opt.dtype);
  }
  return out;
}

// The plan that puts pooled rows (or each row's kept tokens) in input order.
RowPlan input_order(const std::vector<std::vector<std::int64_t>>& batches, std::vector<std::vector<std::int64_t>> kept,
                    std::size_t rows) {
  RowPlan plan;
  plan.kept = std::move(kept);
  std::vector<std::int64_t> first(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    first[r] = plan.rows;
    plan.rows += plan.kept.empty() ? 1 : static_cast<std::int64_t>(plan.kept[r].size());
  }
  for (const auto& b : batches) {
    auto& d = plan.dest.emplace_back();
    for (auto r : b) {
      const std::int64_t n = plan.kept.empty() ? 1 : static_cast<std::int64_t>(plan.kept[static_cast<std::size_t>(r)].size());
      for (std::int64_t t = 0; t < n; ++t) d.push_back(first[static_cast<std::size_t>(r)] + t);
    }
  }
  return plan;
}

// Which token each output row is (pooling "tokens"), from the plan that placed them.
void describe_tokens(const std::vector<std::vector<std::int32_t>>& ids, const std::vector<std::vector<std::int64_t>>& batches,
                     const RowPlan& plan, Embedded& e) {
  e.text_row = torch::empty({plan.rows}, torch::kInt64);
  e.position = torch::empty({plan.rows}, torch::kInt64);
  e.token_id = torch::empty({plan.rows}, torch::kInt64);
  auto* row = e.text_row.data_ptr<std::int64_t>();
  auto* pos = e.position.data_ptr<std::int64_t>();
  auto* tok = e.token_id.data_ptr<std::int64_t>();
  for (std::size_t b = 0; b < batches.size(); ++b) {
    std::size_t k = 0;
    for (auto r : batches[b])
      for (std::int64_t p : plan.kept[static_cast<std::size_t>(r)]) {
        const std::int64_t at = plan.dest[b][k++];
        row[at] = r;
        pos[at] = p;
        tok[at] = ids[static_cast<std::size_t>(r)][static_cast<std::size_t>(p)];
      }
  }
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

std::vector<std::vector<std::int64_t>> kept_tokens(const std::vector<std::int64_t>& lengths, const EmbedOptions& opt) {
  std::vector<std::vector<std::int64_t>> kept(lengths.size());
  std::int64_t total = 0;
  for (std::size_t r = 0; r < lengths.size(); ++r) {
    auto& k = kept[r];
    k.resize(static_cast<std::size_t>(lengths[r]));
    std::iota(k.begin(), k.end(), 0);
    if (opt.tokens_per_text > 0 && lengths[r] > opt.tokens_per_text) {
      // A row's draw depends on the seed and the row alone.
      std::mt19937_64 rng(opt.token_seed ^ (0x9E3779B97F4A7C15ULL * (r + 1)));
      std::shuffle(k.begin(), k.end(), rng);
      k.resize(static_cast<std::size_t>(opt.tokens_per_text));
      std::sort(k.begin(), k.end());
    }
    total += static_cast<std::int64_t>(k.size());
  }
  if (opt.token_rows <= 0 || total <= opt.token_rows) return kept;
  // A seeded subset of all kept tokens, drawn over their (row, position) list.
  std::vector<std::pair<std::int64_t, std::int64_t>> all;
  all.reserve(static_cast<std::size_t>(total));
  for (std::size_t r = 0; r < kept.size(); ++r)
    for (auto p : kept[r]) all.emplace_back(static_cast<std::int64_t>(r), p);
  std::mt19937_64 rng(opt.token_seed);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(static_cast<std::size_t>(opt.token_rows));
  std::sort(all.begin(), all.end());
  for (auto& k : kept) k.clear();
  for (const auto& [r, p] : all) kept[static_cast<std::size_t>(r)].push_back(p);
  return kept;
}

Embedded embed_rows(Encoder& enc, const std::vector<std::vector<std::int32_t>>& ids, std::int32_t pad_id,
                    const EmbedOptions& opt, torch::Device device) {
  check_options(opt);
  const auto lengths = embed_lengths(enc, ids, opt);
  const auto batches = embed_batches(lengths, opt);
  const bool tokens = opt.pooling == "tokens";
  const RowPlan plan = input_order(batches, tokens ? kept_tokens(lengths, opt) : std::vector<std::vector<std::int64_t>>{},
                                   ids.size());
  Embedded e;
  e.layers = embed_into(enc, ids, lengths, batches, plan, pad_id, opt, device);
  if (tokens) describe_tokens(ids, batches, plan, e);
  return e;
}

torch::Tensor embed_ids(Encoder& enc, const std::vector<std::vector<std::int32_t>>& ids, std::int32_t pad_id,
                        const EmbedOptions& opt, torch::Device device) {
  return embed_rows(enc, ids, pad_id, opt, device).layers.front();
}

Embedded embed_id_batches(Encoder& enc, const std::vector<std::vector<std::int32_t>>& ids, std::int32_t pad_id,
                          const EmbedOptions& opt, torch::Device device,
                          const std::vector<std::vector<std::int64_t>>& batches) {
  check_options(opt);
  const auto lengths = embed_lengths(enc, ids, opt);
  const bool tokens = opt.pooling == "tokens";
  RowPlan plan;
  if (tokens) plan.kept = kept_tokens(lengths, opt);
  for (const auto& b : batches) {
    auto& d = plan.dest.emplace_back();
    for (auto r : b) {
      if (r < 0 || r >= static_cast<std::int64_t>(ids.size())) fail_run("embed_id_batches: no row {}", r);
      const std::size_t n = tokens ? plan.kept[static_cast<std::size_t>(r)].size() : 1;
      for (std::size_t t = 0; t < n; ++t) d.push_back(plan.rows++);
    }
  }
  Embedded e;
  e.layers = embed_into(enc, ids, lengths, batches, plan, pad_id, opt, device);
  if (tokens) describe_tokens(ids, batches, plan, e);
  return e;
}

}  // namespace strata::nn

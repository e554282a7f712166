// Text to pooled vectors: the snapshot's tokenizer, then embed_ids. The one file of the
// encoders that depends on core/text.
#include <algorithm>
#include <optional>

#include "core/nn/embed_shards.h"
#include "core/nn/encoder.h"
#include "core/nn/pooling.h"
#include "core/text/tokenizer.h"
#include "core/util/error.h"
#include "core/util/log.h"

namespace strata::nn {

namespace {

struct Tokenized {
  std::vector<std::vector<std::int32_t>> ids;
  std::int32_t pad = 0;
};

Tokenized tokenize(const Encoder& enc, const strata::text::Tokenizer& tok, const std::vector<std::string>& texts,
                   const EmbedOptions& opt) {
  check_pooling(opt.pooling);
  // A tokenizer of another model gives ids the embedding table does not have.
  if (enc.vocab_size() > 0 && tok.vocab_size() > static_cast<std::size_t>(enc.vocab_size()))
    fail_input("{}: the tokenizer has {} tokens, more than the {} rows of the model's embedding table ({}: "
               "vocab_size)",
               enc.snapshot().string(), tok.vocab_size(), enc.vocab_size(), (enc.snapshot() / "config.json").string());
  const std::int64_t limit = std::min(opt.max_tokens, enc.max_positions());
  Tokenized t;
  t.ids = tok.encode_batch(texts, /*add_special_tokens=*/true, static_cast<std::size_t>(limit),
                           std::max(1, torch::get_num_threads()));
  // Decoder tokenizers often define no padding token. Padding never reaches the real tokens'
  // states, so any id serves, except for mean-with-padding, which averages the padded states.
  const std::optional<std::int32_t> pad = tok.pad_id();
  if (!pad && opt.pooling == "mean-with-padding")
    log::warn("the tokenizer has no padding token: mean-with-padding pads with id 0");
  t.pad = pad.value_or(0);
  return t;
}

}  // namespace

Embedded embed_texts(Encoder& enc, const strata::text::Tokenizer& tok, const std::vector<std::string>& texts,
                     const EmbedOptions& opt, torch::Device device) {
  const Tokenized t = tokenize(enc, tok, texts, opt);
  return embed_rows(enc, t.ids, t.pad, opt, device);
}

TextShard embed_texts_shard(Encoder& enc, const strata::text::Tokenizer& tok, const std::vector<std::string>& texts,
                            const EmbedOptions& opt, torch::Device device, std::int64_t shard, std::int64_t shards) {
  const Tokenized t = tokenize(enc, tok, texts, opt);
  const auto lengths = embed_lengths(enc, t.ids, opt);
  const auto batches = shard_batches(lengths, opt, shard, shards);
  TextShard out;
  std::vector<std::int64_t> rows;
  for (const auto& b : batches) {
    rows.insert(rows.end(), b.begin(), b.end());
    out.tokens += padded_tokens(b, lengths);
  }
  out.rows = torch::tensor(rows, torch::kInt64);
  out.embedded = embed_id_batches(enc, t.ids, t.pad, opt, device, batches);
  return out;
}

}  // namespace strata::nn

// Text to pooled vectors: the snapshot's tokenizer, then embed_ids. The one file of the
// encoders that depends on core/text.
#include <algorithm>
#include <optional>

#include "core/nn/encoder.h"
#include "core/nn/pooling.h"
#include "core/text/tokenizer.h"
#include "core/util/log.h"

namespace strata::nn {

torch::Tensor embed_texts(Encoder& enc, const strata::text::Tokenizer& tok, const std::vector<std::string>& texts,
                          const EmbedOptions& opt, torch::Device device) {
  check_pooling(opt.pooling);
  const std::int64_t limit = std::min(opt.max_tokens, enc.max_positions());
  const auto ids = tok.encode_batch(texts, /*add_special_tokens=*/true, static_cast<std::size_t>(limit),
                                    std::max(1, torch::get_num_threads()));
  // Decoder tokenizers often define no padding token. Padding never reaches the real tokens'
  // states, so any id serves, except for mean-with-padding, which averages the padded states.
  const std::optional<std::int32_t> pad = tok.pad_id();
  if (!pad && opt.pooling == "mean-with-padding")
    log::warn("the tokenizer has no padding token: mean-with-padding pads with id 0");
  return embed_ids(enc, ids, pad.value_or(0), opt, device);
}

}  // namespace strata::nn

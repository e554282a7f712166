// RoBERTa: BERT's network; positions start after the padding index (fairseq's convention), so
// real token t of a row has position padding_idx + 1 + t and padding has padding_idx itself.
#include "core/nn/architectures.h"
#include "core/nn/bert.h"
#include "core/util/error.h"

namespace strata::nn {

std::unique_ptr<Encoder> make_roberta(const ModelConfig& cfg, const std::filesystem::path& dir,
                                      torch::ScalarType dtype, torch::Device device) {
  const Weights w(dir, "embeddings.word_embeddings.weight", dtype, device);
  const std::int64_t padding_idx = cfg.integer("pad_token_id", 1);
  // Counted from the mask (the reference counts ids different from the padding id; the two
  // agree unless a real token carries the padding id). Packed rows hold real tokens only.
  PositionRule from_mask = [padding_idx](const Batch& b) {
    if (b.packed()) return b.positions + (padding_idx + 1);
    const torch::Tensor m = b.mask.to(torch::kInt64);
    return torch::cumsum(m, 1) * m + padding_idx;
  };
  const std::int64_t max_positions = cfg.integer("max_position_embeddings") - padding_idx - 1;
  if (padding_idx < 0 || max_positions < 1)
    fail_input("{}: pad_token_id {} leaves no positions below max_position_embeddings {}", cfg.path().string(),
               padding_idx, cfg.integer("max_position_embeddings"));
  return std::make_unique<BertEncoder>(cfg, w, "roberta", from_mask, max_positions);
}

}  // namespace strata::nn

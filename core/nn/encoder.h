#pragma once
// Transformer encoders over Hugging Face snapshot folders (config.json + safetensors weights),
// and the embedding of token-id rows into pooled fp32 vectors.
//
// Conventions shared by every architecture:
// - a batch comes in one of two layouts. Right-padded (forward_layers): row b's real tokens are
//   ids[b, 0:len_b] and mask[b, t] is true exactly for t < len_b. Packed (forward_packed_layers):
//   the rows' real tokens one after another, no padding, attention confined to each row. Positions
//   count real tokens from the left of their row, so with right padding a token's position is its
//   column (RoBERTa adds its padding offset, see roberta.cpp);
// - forward() returns the last hidden state (after the final norm where the model has one) in
//   the model's dtype; padded positions hold whatever the model computes there (their queries
//   attend to the real tokens), exactly as Hugging Face transformers computes them;
// - layers are numbered as transformers' output_hidden_states: 0 is the embedding layer's
//   output, k the output of block k, num_layers() the last hidden state (after the final norm
//   where the model has one, so that it equals forward()).
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace strata::text {
class Tokenizer;
}

namespace strata::nn {

// Poolings of the last hidden state into one vector per row:
//   "mean"              mean over the real tokens;
//   "last"              the last real token (index len_b - 1 of a right-padded row);
//   "cls"               the first token;
//   "tokens"            every real token (or a seeded subset, see tokens_per_text): one row
//                       per token, not per text;
//   "mean-with-padding" the reference code's mean over all T positions of the padded batch,
//                       padding included. T is the longest row of the batch the row was
//                       embedded in, so this pooling depends on batching: embed_ids therefore
//                       forms its batches in input order (batch_size consecutive rows, as the
//                       reference code does) and ignores sort_by_length for it. It is the one
//                       pooling that reads hidden states at padding: it always runs padded.
struct EmbedOptions {
  std::string pooling = "mean";
  std::string dtype = "fp32";  // fp32 | fp16 | bf16: the dtype the model computes in
  std::int64_t max_tokens = 512;
  std::int64_t batch_size = 64;
  // > 0: a batch also ends before its padded size (rows x longest row) would pass this many
  // tokens, so long rows go in smaller batches and peak memory stays bounded. Not applied to
  // mean-with-padding, whose values depend on the batch.
  std::int64_t max_batch_tokens = 0;
  bool normalize = false;  // L2-normalise each pooled row
  bool sort_by_length = true;
  // The hidden states pooled, each into its own rows (0 ... num_layers(), see Encoder); empty:
  // the last. All of them come from one forward pass.
  std::vector<std::int64_t> layers;
  // pooling "tokens": at most this many tokens of a text (0: all) and of the whole corpus
  // (0: all), chosen by `token_seed` from the rows' lengths alone, so batching and sharding
  // never change which tokens are kept.
  std::int64_t tokens_per_text = 0, token_rows = 0;
  std::uint64_t token_seed = 0;
  // Each batch's real tokens packed into one sequence (no compute on padding); false: right-padded
  // batches. The two give the same rows up to rounding; mean-with-padding always runs padded.
  bool packed = true;
};

// Receives hidden states (the model's dtype, on its device) as they are computed:
// [B, T, H] from forward_layers, [N, H] (the packed tokens in order) from forward_packed_layers.
using LayerSink = std::function<void(std::int64_t layer, const torch::Tensor& hidden)>;

// A batch of rows packed without padding: row b is ids[offsets[b] .. offsets[b + 1]).
struct PackedRows {
  torch::Tensor ids;                  // [N] integer, on the host or the model's device
  std::vector<std::int64_t> offsets;  // B + 1 ascending entries, 0 first and N last; no row empty
};

class Encoder {
 public:
  virtual ~Encoder() = default;
  // ids [B,T] integer, mask [B,T] bool or integer (non-zero = real token), right-padded.
  // Gives `sink` the hidden state of each of `layers` (ascending, each in [0, num_layers()]),
  // in that order, and stops computing after the highest one.
  virtual void forward_layers(const torch::Tensor& ids, const torch::Tensor& mask, const std::vector<std::int64_t>& layers,
                              const LayerSink& sink) = 0;
  // The same over packed rows: `sink` receives [N, H], row i for token i of the packed ids. Row b's
  // states equal (to rounding) those forward_layers gives its real tokens in a padded batch, and
  // no compute goes to padding: variable-length flash attention on CUDA in fp16/bf16, each row's
  // attention on its own slice elsewhere.
  virtual void forward_packed_layers(const PackedRows& rows, const std::vector<std::int64_t>& layers,
                                     const LayerSink& sink) = 0;
  // The last hidden state [B,T,H] in the model's dtype, on the model's device.
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask);
  virtual std::int64_t num_layers() const = 0;  // transformer blocks
  virtual std::int64_t hidden_size() const = 0;
  virtual std::string architecture() const = 0;
  // The longest sequence the model's position table covers.
  virtual std::int64_t max_positions() const = 0;

  // Where load_encoder read it from, and the rows of its token embedding table (config.json
  // vocab_size): token ids must lie below it. Empty and 0 for an encoder built otherwise.
  const std::filesystem::path& snapshot() const { return snapshot_; }
  std::int64_t vocab_size() const { return vocab_size_; }
  void set_source(std::filesystem::path snapshot, std::int64_t vocab_size) {
    snapshot_ = std::move(snapshot);
    vocab_size_ = vocab_size;
  }

  // Whether the hidden states at padding positions are read (the mean-with-padding pooling
  // reads them). When they are not, a causal model of right-padded rows needs no padding
  // mask, since a real token attends only to earlier, real tokens; the unmasked causal
  // kernels are the fast ones. Default: read, so the padded rows equal the reference's.
  void set_padding_outputs_read(bool read) { padding_outputs_read_ = read; }

 protected:
  // The attention mask of a causal model's batch: undefined where none is needed.
  bool causal_needs_mask(bool padded) const { return padded && padding_outputs_read_; }

 private:
  bool padding_outputs_read_ = true;
  std::filesystem::path snapshot_;
  std::int64_t vocab_size_ = 0;
};

// Reads config.json (its model_type picks the architecture: bert, roberta, gpt2, llama, qwen2)
// and the safetensors weights of `snapshot_dir`. dtype: fp32 | fp16 | bf16.
// Throws InputError naming the file and the key or tensor at fault.
std::unique_ptr<Encoder> load_encoder(const std::filesystem::path& snapshot_dir,
                                      const std::string& dtype, torch::Device device);

// What embedding rows gives: one [R, H] fp32 tensor on the CPU per layer of opt.layers (in
// that order; one, the last, when it is empty), and for pooling "tokens" which token each row
// is ([R] int64: the input row, the token's position in it, its id).
struct Embedded {
  std::vector<torch::Tensor> layers;
  torch::Tensor text_row, position, token_id;
};

// opt.layers resolved for `num_layers` blocks: a negative index counts from the end (-1: the
// last hidden state), sorted, repeats removed; an index outside [-(L+1), L] is an InputError.
std::vector<std::int64_t> resolve_layers(const std::vector<std::int64_t>& layers, std::int64_t num_layers);

// The positions of each row's tokens that pooling "tokens" keeps (ascending), for rows of these
// lengths: all of them, or tokens_per_text of a longer row and token_rows of the whole corpus
// drawn by token_seed. Depends on the lengths and options alone.
std::vector<std::vector<std::int64_t>> kept_tokens(const std::vector<std::int64_t>& lengths, const EmbedOptions& opt);

// Embeds token-id rows as embed_ids does, every layer and pooling included: rows in input order
// (pooling "tokens": ordered by input row, then position).
Embedded embed_rows(Encoder& enc, const std::vector<std::vector<std::int32_t>>& ids, std::int32_t pad_id,
                    const EmbedOptions& opt, torch::Device device);

// Embeds token-id rows: [N,H] fp32 on the CPU, row i for ids[i] (the first of opt.layers). Rows longer than
// min(max_tokens, max_positions()) keep their first ids (tokenise with truncation to keep
// special tokens). Rows are sorted by length and cut into batches of batch_size, each batch's
// tokens packed (or right-padded, see EmbedOptions::packed), then restored to input order. An
// empty row is an InputError.
// `device` is where `enc` was loaded ("cuda" matches any CUDA device); batches are built on
// the host and sent there, pooled rows come back to the CPU in large chunks.
torch::Tensor embed_ids(Encoder& enc, const std::vector<std::vector<std::int32_t>>& ids,
                        std::int32_t pad_id, const EmbedOptions& opt, torch::Device device);

// The tokens embed_ids embeds of each row: its length cut at min(max_tokens, max_positions()).
// An empty row is an InputError.
std::vector<std::int64_t> embed_lengths(const Encoder& enc, const std::vector<std::vector<std::int32_t>>& ids,
                                        const EmbedOptions& opt);
// The batches embed_ids forms from rows of these lengths, in the order it runs them: each
// one the input indices of its rows.
std::vector<std::vector<std::int64_t>> embed_batches(const std::vector<std::int64_t>& lengths,
                                                     const EmbedOptions& opt);
// Part of embed_ids' work: the rows of `batches` (batches of embed_batches for these ids and
// options), each batch computed exactly as embed_ids computes it: split between processes on
// the same kind of device and thread count, embed_ids' batches give its rows bit for bit.
// Returns the batches' rows in order (pooling "tokens": each row's kept tokens in position order).
Embedded embed_id_batches(Encoder& enc, const std::vector<std::vector<std::int32_t>>& ids,
                               std::int32_t pad_id, const EmbedOptions& opt, torch::Device device,
                               const std::vector<std::vector<std::int64_t>>& batches);

// Tokenises (with the tokenizer's special tokens, truncated to min(max_tokens,
// max_positions())) and embeds with the tokenizer's padding id (0 where it has none).
Embedded embed_texts(Encoder& enc, const strata::text::Tokenizer& tok, const std::vector<std::string>& texts,
                     const EmbedOptions& opt, torch::Device device);

// Provenance of the weights: SHA-256 over the weight files of the snapshot (each file's name
// and contents, files in name order). Computed afresh on every call.
std::string weights_hash(const std::filesystem::path& snapshot_dir);

// The transformer blocks a snapshot's config.json declares (num_hidden_layers, GPT-2's n_layer).
std::int64_t snapshot_layers(const std::filesystem::path& snapshot_dir);

// "fp32" | "fp16" | "bf16" (also "float32", "float16", "bfloat16") to a torch dtype.
torch::ScalarType parse_dtype(const std::string& dtype);
const std::vector<std::string>& dtype_names();  // fp32, fp16, bf16

// A digest of what strata reads from a snapshot folder (config, tokenizer files and weights:
// its top-level .json, .txt, .model and .safetensors files), for job ids; see
// core/io/fingerprint.h.
std::string snapshot_fingerprint(const std::filesystem::path& snapshot_dir);

}  // namespace strata::nn

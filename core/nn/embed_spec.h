#pragma once
// The embedding job's spec: a sweep's [[model]] table (a snapshot to run, or vectors computed
// elsewhere), `strata embed`'s options, and the embeddings strata makes itself (synthetic
// points, Gaussian nulls, merged shards).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/data/synthetic.h"
#include "core/nn/encoder.h"
#include "core/spec/schema_fwd.h"

namespace strata::nn {

// The hidden states a text model's embedding is made of: "all" (0, the embedding layer's output,
// to the last), or indices (negative from the end; the default [-1] is the last hidden state).
struct LayerSelection {
  bool all = false;
  std::vector<std::int64_t> indices;  // empty: [-1], the last hidden state

  bool last_only() const { return !all && (indices.empty() || (indices.size() == 1 && indices[0] == -1)); }
  std::vector<std::int64_t> resolve(std::int64_t num_layers) const;  // ascending, in [0, num_layers]
  static LayerSelection from_value(const nlohmann::json& v, std::string* error);
  nlohmann::json to_value() const;
  static std::string type_name() { return "\"all\" or a list of integers"; }
};

struct EmbedSpec {
  std::string name;                   // the embedding's name in the archive (/embeddings/<name>)
  std::filesystem::path path;         // a Hugging Face snapshot folder
  std::filesystem::path import_path;  // or vectors computed elsewhere (.npy, .h5)
  std::string import_dataset;         // dataset path inside an .h5 import
  std::string pooling = "mean", dtype = "fp32";
  std::int64_t max_tokens = 512, batch_size = 64;
  std::int64_t batch_tokens = 8192;  // padded tokens per batch at most (0: rows only)
  bool normalize = false;
  LayerSelection layers;              // one embedding per hidden state, named <name>@L<k>
  std::int64_t tokens_per_text = 0;   // pooling "tokens": tokens kept of a text (0: all)
  std::int64_t token_rows = 200000;   // pooling "tokens": rows kept of the whole corpus (0: all)
  // Set by strata:
  std::int64_t layer = -1;           // layer_of: the hidden state it takes of its model's layers
  std::string kind = "text_model";   // text_model | import | synthetic | null_model | merge_shards | layer_of
  std::string fingerprint;           // content of the snapshot or import file (core/io/fingerprint.h)
  std::uint64_t seed = 0;            // null_model: its draws; pooling "tokens": which are kept
  std::int64_t shard = 0, shards = 1;  // text_model: this job embeds shard `shard` of `shards`
  std::optional<SyntheticSpec> synthetic;  // synthetic: the space

  bool is_import() const { return !import_path.empty(); }
  // A synthetic space's payload holds its true strata (`truth`, `truth_dim`); no other does.
  bool has_truth() const { return kind == "synthetic"; }
  EmbedOptions options() const;
  // The host memory its vectors take at least: float32 [rows, hidden] per layer kept, rows = the
  // texts (with pooling "tokens": one or more per text, at most token_rows).
  double output_bytes(std::int64_t texts, std::int64_t hidden, std::size_t layers) const;
  static const spec::Schema<EmbedSpec>& schema();  // [[model]]
};

}  // namespace strata::nn

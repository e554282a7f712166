#pragma once
// The embedding job's spec: a sweep's [[model]] table (a snapshot to run, or vectors computed
// elsewhere), `strata embed`'s options, and the embeddings strata makes itself (synthetic
// points, Gaussian nulls, merged shards).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/data/synthetic.h"
#include "core/nn/encoder.h"
#include "core/spec/schema_fwd.h"

namespace strata::nn {

struct EmbedSpec {
  std::string name;                   // the embedding's name in the archive (/embeddings/<name>)
  std::filesystem::path path;         // a Hugging Face snapshot folder
  std::filesystem::path import_path;  // or vectors computed elsewhere (.npy, .h5)
  std::string import_dataset;         // dataset path inside an .h5 import
  std::string pooling = "mean", dtype = "fp32";
  std::int64_t max_tokens = 512, batch_size = 64;
  std::int64_t batch_tokens = 8192;  // padded tokens per batch at most (0: rows only)
  bool normalize = false;
  // Set by strata:
  std::string kind = "text_model";   // text_model | import | synthetic | null_model | merge_shards
  std::string fingerprint;           // content of the snapshot or import file (core/io/fingerprint.h)
  std::uint64_t seed = 0;            // null_model: its draws
  std::int64_t shard = 0, shards = 1;  // text_model: this job embeds shard `shard` of `shards`
  std::optional<SyntheticSpec> synthetic;  // synthetic: the space

  bool is_import() const { return !import_path.empty(); }
  // A synthetic space's payload holds its true strata (`truth`, `truth_dim`); no other does.
  bool has_truth() const { return kind == "synthetic"; }
  EmbedOptions options() const;
  static const spec::Schema<EmbedSpec>& schema();  // [[model]]
};

}  // namespace strata::nn

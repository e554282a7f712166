#include "core/nn/embed_spec.h"

#include <algorithm>
#include <cstdlib>

#include "core/nn/pooling.h"
#include "core/spec/fields.h"

namespace strata::nn {

double EmbedSpec::output_bytes(std::int64_t texts, std::int64_t hidden, std::size_t layers) const {
  // Token rows are not known before tokenizing; every text has at least one.
  double rows = static_cast<double>(texts);
  if (pooling == "tokens" && token_rows > 0) rows = std::min(rows, static_cast<double>(token_rows));
  return 4.0 * rows * static_cast<double>(hidden) * static_cast<double>(layers);
}

EmbedOptions EmbedSpec::options() const {
  EmbedOptions opt;
  opt.pooling = pooling;
  opt.dtype = dtype;
  opt.max_tokens = max_tokens;
  opt.batch_size = batch_size;
  opt.max_batch_tokens = batch_tokens;
  opt.normalize = normalize;
  opt.tokens_per_text = tokens_per_text;
  opt.token_rows = token_rows;
  opt.token_seed = seed;
  return opt;
}

std::vector<std::int64_t> LayerSelection::resolve(std::int64_t num_layers) const {
  if (!all) return resolve_layers(indices, num_layers);
  std::vector<std::int64_t> every(static_cast<std::size_t>(num_layers + 1));
  for (std::int64_t k = 0; k <= num_layers; ++k) every[static_cast<std::size_t>(k)] = k;
  return every;
}

LayerSelection LayerSelection::from_value(const nlohmann::json& v, std::string* error) {
  LayerSelection s;
  if (v.is_string() && v.get<std::string>() == "all") {
    s.all = true;
    s.indices.clear();
    return s;
  }
  const auto refuse = [&] {
    if (error) *error = "must be \"all\" or a non-empty list of layer indices (0: the embedding layer, -1: the last)";
    return s;
  };
  if (!v.is_array() || v.empty()) return refuse();
  s.indices.clear();
  for (const auto& x : v) {
    if (!x.is_number_integer() || std::abs(x.get<std::int64_t>()) > (1 << 16)) return refuse();
    s.indices.push_back(x.get<std::int64_t>());
  }
  return s;
}

nlohmann::json LayerSelection::to_value() const {
  if (all) return "all";
  return indices.empty() ? nlohmann::json::array({-1}) : nlohmann::json(indices);
}

const spec::Schema<EmbedSpec>& EmbedSpec::schema() {
  using S = EmbedSpec;
  static const auto sc = [] {
    spec::Schema<S> s("model", "A model to embed the corpus with (path = a snapshot folder), or vectors computed "
                               "elsewhere (import = a .npy or .h5 file, row-aligned with the corpus).");
    s.add(spec::field(&S::name, "name", "the embedding's name in the archive", {}, spec::kRequired | spec::kNonEmpty))
        .add(spec::field(&S::path, "path", "a Hugging Face snapshot folder (config.json, tokenizer.json, *.safetensors)",
                         {}, spec::kByContent))
        .add(spec::field(&S::import_path, "import", "vectors computed elsewhere: .npy, or .h5/.hdf5 with dataset", {},
                         spec::kByContent))
        .add(spec::field(&S::import_dataset, "dataset", "the dataset inside an .h5 import"))
        .add(spec::field(&S::pooling, "pooling", "how token states become one vector per text", spec::one_of(pooling_names())))
        .add(spec::field(&S::dtype, "dtype", "the dtype the model computes in", spec::one_of(dtype_names())))
        .add(spec::field(&S::max_tokens, "max_tokens", "tokens per text at most (longer texts are truncated)",
                         spec::range(1, 1 << 20)))
        .add(spec::field(&S::batch_size, "batch_size", "rows per batch at most (rows are sorted by length first)",
                         spec::range(1, 1 << 20)))
        .add(spec::field(&S::batch_tokens, "batch_tokens", "padded tokens per batch at most (0: rows only)",
                         spec::range(0, 1 << 30)))
        .add(spec::field(&S::normalize, "normalize", "L2-normalise every vector"))
        .add(spec::field(&S::layers, "layers",
                         "the hidden states embedded, each an embedding <name>@L<k> from one forward pass: \"all\" or "
                         "indices (0: the embedding layer's output, -1: the last hidden state)", {}, spec::kIdIfSet))
        .add(spec::field(&S::tokens_per_text, "tokens_per_text",
                         "pooling \"tokens\": tokens kept of a text, a seeded draw (0: all)", spec::range(0, 1 << 20),
                         spec::kIdIfSet))
        .add(spec::field(&S::token_rows, "token_rows",
                         "pooling \"tokens\": rows kept of the whole corpus, a seeded draw (0: all)",
                         spec::range(0, std::int64_t{1} << 40), spec::kIdIfSet))
        .add(spec::field(&S::kind, "kind", "what makes the vectors",
                         spec::one_of({"text_model", "import", "synthetic", "null_model", "merge_shards", "layer_of"}),
                         spec::kInternal))
        .add(spec::field(&S::layer, "layer", "layer_of: the hidden state taken", {}, spec::kInternal | spec::kIdIfSet))
        .add(spec::field(&S::fingerprint, "fingerprint", "content of the snapshot or import file", {}, spec::kInternal))
        .add(spec::field(&S::seed, "seed", "a null model's draws", {}, spec::kInternal))
        .add(spec::field(&S::shard, "shard", "the shard this job embeds", spec::range(0, 1 << 20), spec::kInternal | spec::kNoId))
        .add(spec::field(&S::shards, "shards", "shards the embedding is made in", spec::range(1, 1 << 20),
                         spec::kInternal | spec::kNoId))
        .add(spec::field(&S::synthetic, "synthetic", "the synthetic space", {}, spec::kInternal));
    s.check([](const S& m, const spec::Reader& r, const std::string& where) {
      if (m.name.find('/') != std::string::npos)
        r.fail(spec::Reader::child(where, "name"), "model name '{}' must not contain '/'", m.name);
      if (m.name.find('@') != std::string::npos && m.kind == "text_model")
        r.fail(spec::Reader::child(where, "name"), "model name '{}' must not contain '@' (it names layers)", m.name);
      if (!m.layers.last_only() && !m.import_path.empty())
        r.fail(spec::Reader::child(where, "layers"), "model '{}': imported vectors have no layers", m.name);
      if (m.kind == "text_model" || m.kind == "import") {
        const bool has_path = !m.path.empty(), has_import = !m.import_path.empty();
        if (has_path == has_import)
          r.fail(where, "model '{}' needs exactly one of path = (a snapshot folder) or import = (vectors)", m.name);
      }
    });
    return s;
  }();
  return sc;
}

}  // namespace strata::nn

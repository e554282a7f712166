// Embedding jobs: text through a transformer, vectors imported from files, synthetic
// points, and the Gaussian null model of another embedding.
#include <chrono>
#include <memory>
#include <optional>
#include <set>

#include <fmt/ranges.h>

#include "cluster/device.h"
#include "core/analysis/analysis.h"
#include "core/io/h5.h"
#include "core/io/npy.h"
#include "core/io/safetensors.h"
#include "core/nn/embed_shards.h"
#include "core/nn/encoder.h"
#include "core/text/tokenizer.h"
#include "core/util/error.h"
#include "core/util/hash.h"
#include "core/util/host_memory.h"
#include "core/util/log.h"
#include "workers/jobs.h"

namespace strata::workers {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The last text model this process embedded with stays loaded: a rank given the shards of
// one model one after another (the coordinator prefers the rank that holds the model) loads
// and hashes it once. One model at a time, so memory holds at most one.
struct LoadedModel {
  std::string key;
  std::optional<text::Tokenizer> tokenizer;
  std::unique_ptr<nn::Encoder> encoder;
  std::string weights_hash;
};

// A transformer block's tensor ("encoder.layer.3.", "h.3.", "model.layers.3."): every
// architecture loads all of them, whatever else a snapshot holds (heads it never reads).
bool block_tensor(const std::string& name) {
  std::vector<std::string> parts;
  for (std::size_t at = 0; at <= name.size();) {
    const auto dot = std::min(name.find('.', at), name.size());
    parts.push_back(name.substr(at, dot - at));
    at = dot + 1;
  }
  for (std::size_t i = 0; i + 1 < parts.size(); ++i)
    if ((parts[i] == "layer" || parts[i] == "layers" || parts[i] == "h") && !parts[i + 1].empty() &&
        parts[i + 1].find_first_not_of("0123456789") == std::string::npos)
      return true;
  return false;
}

// Refuses a model whose transformer blocks alone, in the dtype it computes in, exceed what
// `device` may allocate (a lower bound: embeddings, activations and the rest come on top).
void check_model_memory(const nn::EmbedSpec& job, torch::Device device) {
  if (device.is_cpu()) return;  // the weights are memory-mapped there, and converted block by block
  const io::SafetensorsStore store(job.path);
  const double element = static_cast<double>(c10::elementSize(nn::parse_dtype(job.dtype)));
  double need = 0;
  for (const auto& name : store.names()) {
    if (!block_tensor(name)) continue;
    double n = 1;
    for (auto d : store.entry(name).shape) n *= static_cast<double>(d);
    need += n * element;
  }
  cluster::check_device_memory(need, device, fmt::format("model {} ({} weights)", job.name, job.dtype),
                               "embed in bf16, or on a GPU with more memory");
}

LoadedModel& load_model(const nn::EmbedSpec& job, torch::Device device) {
  // Never destroyed: freeing device memory after the CUDA runtime has shut down at exit fails.
  static auto& held = *new LoadedModel;
  const std::string key = fmt::format("{}|{}|{}", job.path.string(), job.dtype, device.str());
  if (held.key == key) return held;
  held = LoadedModel{};  // release the previous model before loading the next
  if (!std::filesystem::is_directory(job.path))
    fail_input("{}: model snapshot folder not found", job.path.string());
  held.tokenizer = text::Tokenizer::from_dir(job.path);
  check_model_memory(job, device);
  held.encoder = nn::load_encoder(job.path, job.dtype, device);
  held.weights_hash = nn::weights_hash(job.path);
  held.key = key;
  return held;
}

// The attributes every text-model embedding (and each of its shards) carries.
void model_attrs(const nn::EmbedSpec& job, const LoadedModel& m, torch::Device device, Payload& p) {
  p.attrs["model_path"] = job.path.string();
  p.attrs["architecture"] = m.encoder->architecture();
  p.attrs["weights_hash"] = m.weights_hash;
  p.attrs["tokenizer_hash"] = m.tokenizer->hash();
  p.attrs["pooling"] = job.pooling;
  p.attrs["dtype"] = job.dtype;
  p.attrs["device"] = device.str();
  p.numbers["max_tokens"] = static_cast<double>(job.max_tokens);
}

// The payload names of an embedding's rows: `data` for one layer, L<k> for each of several.
std::string layer_name(std::int64_t layer) { return fmt::format("L{}", layer); }

void put_rows(const nn::EmbedSpec& job, const nn::Encoder& enc, nn::Embedded e, Payload& p) {
  const auto layers = job.layers.resolve(enc.num_layers());
  if (job.layers.last_only()) {
    p.tensors["data"] = e.layers.front().contiguous();
  } else {
    for (std::size_t j = 0; j < layers.size(); ++j) p.tensors[layer_name(layers[j])] = e.layers[j].contiguous();
    p.strings["layers"] = {};
    for (auto l : layers) p.strings["layers"].push_back(layer_name(l));
  }
  if (e.text_row.defined()) {
    p.tensors["text_row"] = e.text_row;
    p.tensors["position"] = e.position;
    p.tensors["token_id"] = e.token_id;
  }
  p.numbers["num_layers"] = static_cast<double>(enc.num_layers());
}

Payload text_model(const nn::EmbedSpec& job, const Corpus& corpus, torch::Device device) {
  const auto t0 = std::chrono::steady_clock::now();
  LoadedModel& m = load_model(job, device);
  nn::EmbedOptions opt = job.options();
  opt.layers = job.layers.resolve(m.encoder->num_layers());
  const auto texts = static_cast<std::int64_t>(corpus.size()) / std::max<std::int64_t>(job.shards, 1);
  check_host_memory(job.output_bytes(texts, m.encoder->hidden_size(), opt.layers.size()), host_memory_bytes(),
                    fmt::format("embedding {} ({} texts x {} features x {} layers)", job.name, texts,
                                m.encoder->hidden_size(), opt.layers.size()),
                    "keep fewer layers, set a smaller token_rows, or embed in [cluster] embed_shards");
  Payload p;
  if (job.shards <= 1) {
    put_rows(job, *m.encoder, nn::embed_texts(*m.encoder, *m.tokenizer, corpus.text, opt, device), p);
  } else {
    auto part = nn::embed_texts_shard(*m.encoder, *m.tokenizer, corpus.text, opt, device, job.shard, job.shards);
    p.tensors["rows"] = part.rows;
    put_rows(job, *m.encoder, std::move(part.embedded), p);
    p.numbers["tokens"] = static_cast<double>(part.tokens);
    p.numbers["shard"] = static_cast<double>(job.shard);
    p.numbers["shards"] = static_cast<double>(job.shards);
    log::debug("shard {}/{}: {} rows, {} padded tokens", job.shard + 1, job.shards, part.rows.size(0), part.tokens);
  }
  model_attrs(job, m, device, p);
  p.numbers["seconds"] = seconds_since(t0);
  return p;
}

std::string attr_of(const Payload& p, const std::string& key) {
  auto it = p.attrs.find(key);
  return it == p.attrs.end() ? std::string() : it->second;
}

double number_of(const Payload& p, const std::string& key) {
  auto it = p.numbers.find(key);
  return it == p.numbers.end() ? 0.0 : it->second;
}

}  // namespace

torch::Tensor import_vectors(const std::filesystem::path& file, const std::string& dataset, std::int64_t rows) {
  torch::Tensor X;
  const auto ext = file.extension().string();
  if (ext == ".npy") {
    X = io::read_npy(file);
  } else if (ext == ".h5" || ext == ".hdf5") {
    if (dataset.empty()) fail_input("{}: an HDF5 import needs dataset = \"/path/in/file\"", file.string());
    io::h5::File f(file, io::h5::File::Mode::read);
    X = f.root().read(dataset.front() == '/' ? dataset.substr(1) : dataset);
  } else {
    fail_input("{}: imports read .npy or .h5/.hdf5 files", file.string());
  }
  if (X.dim() != 2) fail_input("{}: vectors must be a 2-D array [rows, dim], found {} dimensions", file.string(), X.dim());
  if (!X.is_floating_point()) fail_input("{}: vectors must be float16/32/64", file.string());
  if (X.size(0) != rows)
    fail_input("{}: {} rows of vectors but the corpus has {} rows; vectors must be row-aligned with the corpus",
               file.string(), X.size(0), rows);
  if (!torch::isfinite(X).all().item<bool>()) fail_input("{}: vectors contain NaN or infinite values", file.string());
  return X.to(torch::kFloat32).contiguous();
}

namespace {

// The names of a shard's row tensors: `data`, or one L<k> per layer.
std::vector<std::string> row_tensors(const Payload& shard) {
  const auto it = shard.strings.find("layers");
  return it == shard.strings.end() ? std::vector<std::string>{"data"} : it->second;
}

// Shards of one embedding must come from one model: a snapshot replaced mid-sweep is an error.
void same_model(const std::vector<const Payload*>& shards, Payload& p) {
  for (const Payload* s : shards)
    for (const char* key : {"model_path", "architecture", "weights_hash", "tokenizer_hash", "pooling", "dtype"}) {
      const std::string v = attr_of(*s, key);
      auto [it, fresh] = p.attrs.emplace(key, v);
      if (!fresh && it->second != v)
        fail_run("embedding shards differ in {}: '{}' and '{}' (was the model changed during the sweep?)", key,
                 it->second, v);
    }
}

// Pooled rows: each corpus row from exactly one shard, placed at its row.
void merge_pooled(const std::vector<const Payload*>& shards, std::int64_t rows, const std::vector<std::string>& names,
                  Payload& p) {
  std::vector<char> seen(static_cast<std::size_t>(rows), 0);
  for (std::size_t k = 0; k < shards.size(); ++k) {
    const torch::Tensor& idx = shards[k]->tensor("rows");
    const auto* r = idx.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < idx.size(0); ++i)
      if (r[i] < 0 || r[i] >= rows || seen[static_cast<std::size_t>(r[i])]++)
        fail_run("embedding shard {}: row {} is outside the corpus or in another shard too", k, r[i]);
  }
  for (std::size_t i = 0; i < seen.size(); ++i)
    if (!seen[i]) fail_run("embedding shards leave corpus row {} out", i);
  for (const auto& name : names) {
    const std::int64_t width = shards.front()->tensor(name).size(1);
    torch::Tensor data = torch::empty({rows, width}, torch::kFloat32);
    for (const Payload* s : shards)
      if (s->tensor("rows").size(0) > 0) data.index_copy_(0, s->tensor("rows"), s->tensor(name));
    p.tensors[name] = data;
  }
}

// Token rows: every shard's tokens, ordered by text row, then position.
void merge_tokens(const std::vector<const Payload*>& shards, const std::vector<std::string>& names, Payload& p) {
  const auto cat = [&](const std::string& name) {
    std::vector<torch::Tensor> parts;
    for (const Payload* s : shards) parts.push_back(s->tensor(name));
    return torch::cat(parts);
  };
  const torch::Tensor row = cat("text_row"), pos = cat("position");
  const torch::Tensor order = std::get<1>(torch::sort(row * (pos.max().item<std::int64_t>() + 1) + pos, /*stable=*/true, 0, false));
  for (const char* meta : {"text_row", "position", "token_id"}) p.tensors[meta] = cat(meta).index_select(0, order);
  for (const auto& name : names) p.tensors[name] = cat(name).index_select(0, order);
}

}  // namespace

Payload merge_shards(const std::vector<const Payload*>& shards, std::int64_t rows) {
  if (shards.empty()) fail_run("merge_shards: no shards");
  const std::vector<std::string> names = row_tensors(*shards.front());
  for (std::size_t k = 0; k < shards.size(); ++k) {
    const Payload& s = *shards[k];
    const std::int64_t count = s.tensors.count("text_row") ? s.tensor("text_row").size(0) : s.tensor("rows").size(0);
    if (row_tensors(s) != names) fail_run("embedding shard {} holds other layers than shard 0", k);
    for (const auto& name : names) {
      const torch::Tensor& part = s.tensor(name);
      const std::int64_t width = shards.front()->tensor(name).size(1);
      if (part.dim() != 2 || part.size(0) != count || part.size(1) != width)
        fail_run("embedding shard {}: {} rows of [{}] vectors in {}, not one vector of width {} per row", k, count,
                 fmt::join(part.sizes(), ", "), name, width);
    }
  }
  Payload p;
  same_model(shards, p);
  if (shards.front()->tensors.count("text_row")) merge_tokens(shards, names, p);
  else merge_pooled(shards, rows, names, p);
  std::set<std::string> devices;
  double seconds = 0;
  for (const Payload* s : shards) {
    devices.insert(attr_of(*s, "device"));
    seconds += number_of(*s, "seconds");
  }
  if (const auto it = shards.front()->strings.find("layers"); it != shards.front()->strings.end()) p.strings["layers"] = it->second;
  p.attrs["device"] = fmt::format("{}", fmt::join(devices, ", "));
  for (const char* key : {"max_tokens", "num_layers"}) p.numbers[key] = number_of(*shards.front(), key);
  p.numbers["shards"] = static_cast<double>(shards.size());
  p.numbers["shard_seconds"] = seconds;
  return p;
}

Payload layer_of(const nn::EmbedSpec& job, const Payload& layers) {
  Payload p;
  p.tensors["data"] = layers.tensor(layer_name(job.layer));
  for (const char* meta : {"text_row", "position", "token_id"})
    if (layers.tensors.count(meta)) p.tensors[meta] = layers.tensor(meta);
  p.attrs = layers.attrs;
  p.numbers["layer"] = static_cast<double>(job.layer);
  for (const char* key : {"max_tokens", "num_layers"}) p.numbers[key] = number_of(layers, key);
  return p;
}

Payload run_embed(const nn::EmbedSpec& job, const Corpus& corpus, torch::Device device, const torch::Tensor* null_source) {
  const auto t0 = std::chrono::steady_clock::now();
  if (job.kind == "text_model") return text_model(job, corpus, device);
  Payload p;
  if (job.kind == "import") {
    p.tensors["data"] = import_vectors(job.import_path, job.import_dataset, static_cast<std::int64_t>(corpus.size()));
    p.attrs["import_path"] = job.import_path.string();
    p.attrs["weights_hash"] = sha256_file(job.import_path);
  } else if (job.kind == "synthetic") {
    if (!job.synthetic) fail_run("synthetic embedding without a synthetic spec");
    auto data = generate_synthetic(*job.synthetic);
    if (static_cast<std::size_t>(data.points.size(0)) != corpus.size())
      fail_run("synthetic points ({}) and corpus rows ({}) differ", data.points.size(0), corpus.size());
    p.tensors["data"] = data.points;
    p.tensors["truth"] = data.truth;
    // The intrinsic dimension of each true stratum, so analyses can put readouts beside it.
    std::vector<std::int64_t> dims;
    for (const auto& st : job.synthetic->strata) dims.push_back(st.dim);
    p.tensors["truth_dim"] = torch::tensor(dims, torch::kInt64);
  } else if (job.kind == "null_model") {
    if (!null_source) fail_run("null model without its source embedding");
    p.tensors["data"] = analysis::gaussian_null(*null_source, null_source->size(0), job.seed).to(torch::kFloat32);
  } else {
    fail_run("unknown embedding kind '{}'", job.kind);
  }
  p.attrs["kind"] = job.kind;
  p.numbers["seconds"] = seconds_since(t0);
  return p;
}

}  // namespace strata::workers

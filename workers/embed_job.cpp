// Embedding jobs: text through a transformer, vectors imported from files, synthetic
// points, and the Gaussian null model of another embedding.
#include <chrono>
#include <memory>
#include <optional>
#include <set>

#include <fmt/ranges.h>

#include "core/analysis/analysis.h"
#include "core/io/h5.h"
#include "core/io/npy.h"
#include "core/nn/embed_shards.h"
#include "core/nn/encoder.h"
#include "core/text/tokenizer.h"
#include "core/util/error.h"
#include "core/util/hash.h"
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

LoadedModel& load_model(const nn::EmbedSpec& job, torch::Device device) {
  // Never destroyed: freeing device memory after the CUDA runtime has shut down at exit fails.
  static auto& held = *new LoadedModel;
  const std::string key = fmt::format("{}|{}|{}", job.path.string(), job.dtype, device.str());
  if (held.key == key) return held;
  held = LoadedModel{};  // release the previous model before loading the next
  if (!std::filesystem::is_directory(job.path))
    fail_input("{}: model snapshot folder not found", job.path.string());
  held.tokenizer = text::Tokenizer::from_dir(job.path);
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

Payload text_model(const nn::EmbedSpec& job, const Corpus& corpus, torch::Device device) {
  const auto t0 = std::chrono::steady_clock::now();
  LoadedModel& m = load_model(job, device);
  const nn::EmbedOptions opt = job.options();
  Payload p;
  if (job.shards <= 1) {
    p.tensors["data"] = nn::embed_texts(*m.encoder, *m.tokenizer, corpus.text, opt, device).to(torch::kCPU).contiguous();
  } else {
    auto part = nn::embed_texts_shard(*m.encoder, *m.tokenizer, corpus.text, opt, device, job.shard, job.shards);
    p.tensors["rows"] = part.rows;
    p.tensors["data"] = part.vectors.contiguous();
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

Payload merge_shards(const std::vector<const Payload*>& shards, std::int64_t rows) {
  if (shards.empty()) fail_run("merge_shards: no shards");
  std::int64_t width = -1;
  for (const Payload* s : shards) width = std::max(width, s->tensor("data").dim() == 2 ? s->tensor("data").size(1) : -1);
  torch::Tensor data = torch::empty({rows, std::max<std::int64_t>(width, 0)}, torch::kFloat32);
  std::vector<char> seen(static_cast<std::size_t>(rows), 0);
  Payload p;
  std::set<std::string> devices;
  double seconds = 0;
  for (std::size_t k = 0; k < shards.size(); ++k) {
    const Payload& s = *shards[k];
    const torch::Tensor& idx = s.tensor("rows");
    const torch::Tensor& part = s.tensor("data");
    if (part.dim() != 2 || idx.dim() != 1 || part.size(0) != idx.size(0) || part.size(1) != width)
      fail_run("embedding shard {}: {} rows of [{}] vectors, not one vector of width {} per row", k, idx.size(0),
               fmt::join(part.sizes(), ", "), width);
    const auto* r = idx.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < idx.size(0); ++i) {
      if (r[i] < 0 || r[i] >= rows || seen[static_cast<std::size_t>(r[i])]++)
        fail_run("embedding shard {}: row {} is outside the corpus or in another shard too", k, r[i]);
    }
    if (idx.size(0) > 0) data.index_copy_(0, idx, part);
    // Shards of one embedding must come from one model: a snapshot replaced mid-sweep is an error.
    for (const char* key : {"model_path", "architecture", "weights_hash", "tokenizer_hash", "pooling", "dtype"}) {
      const std::string v = attr_of(s, key);
      auto [it, fresh] = p.attrs.emplace(key, v);
      if (!fresh && it->second != v)
        fail_run("embedding shards differ in {}: '{}' and '{}' (was the model changed during the sweep?)", key,
                 it->second, v);
    }
    devices.insert(attr_of(s, "device"));
    seconds += number_of(s, "seconds");
  }
  for (std::size_t i = 0; i < seen.size(); ++i)
    if (!seen[i]) fail_run("embedding shards leave corpus row {} out", i);
  p.tensors["data"] = data;
  p.attrs["device"] = fmt::format("{}", fmt::join(devices, ", "));
  p.numbers["max_tokens"] = number_of(*shards.front(), "max_tokens");
  p.numbers["shards"] = static_cast<double>(shards.size());
  p.numbers["shard_seconds"] = seconds;
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

// Embedding jobs: text through a transformer, vectors imported from files, synthetic
// points, and the Gaussian null model of another embedding.
#include <chrono>

#include "core/analysis/analysis.h"
#include "core/io/h5.h"
#include "core/io/npy.h"
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

Payload text_model(const EmbedJob& job, const Corpus& corpus, torch::Device device) {
  if (!std::filesystem::is_directory(job.model_path))
    fail_input("{}: model snapshot folder not found", job.model_path.string());
  const auto t0 = std::chrono::steady_clock::now();
  auto tokenizer = text::Tokenizer::from_dir(job.model_path);
  auto encoder = nn::load_encoder(job.model_path, job.dtype, device);
  nn::EmbedOptions opt;
  opt.pooling = job.pooling;
  opt.dtype = job.dtype;
  opt.max_tokens = job.max_tokens;
  opt.batch_size = job.batch_size;
  opt.normalize = job.normalize;
  Payload p;
  p.tensors["data"] = nn::embed_texts(*encoder, tokenizer, corpus.text, opt, device).to(torch::kCPU).contiguous();
  p.attrs["model_path"] = job.model_path.string();
  p.attrs["architecture"] = encoder->architecture();
  p.attrs["weights_hash"] = nn::weights_hash(job.model_path);
  p.attrs["tokenizer_hash"] = tokenizer.hash();
  p.attrs["pooling"] = job.pooling;
  p.attrs["dtype"] = job.dtype;
  p.attrs["device"] = device.str();
  p.numbers["max_tokens"] = static_cast<double>(job.max_tokens);
  p.numbers["seconds"] = seconds_since(t0);
  return p;
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

Payload run_embed(const EmbedJob& job, const Corpus& corpus, torch::Device device, const torch::Tensor* null_source) {
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

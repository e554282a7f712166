#pragma once
// A sweep file (TOML), parsed and validated against one schema. Errors read
// "FILE:LINE:COL: message". All relative paths are resolved against the sweep file's folder.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/data/synthetic.h"

namespace strata::sweep {

struct Source {
  std::string name, format;
  std::filesystem::path path;
  std::string split = "train";
  std::string text_field = "text", label_field = "label", id_field, source_column;
  std::vector<std::string> text_fields;
};

struct CorpusSpec {
  std::int64_t samples_per_source = 0;  // 0: every row
  std::string sampling = "random";      // random | first
  bool balance_labels = false;
  std::int64_t min_chars = 0, max_chars = 0;
  std::vector<Source> sources;
  std::optional<std::filesystem::path> table;  // a ready corpus table (jsonl/csv)
  std::optional<SyntheticSpec> synthetic;
};

struct ModelSpec {
  std::string name;
  std::filesystem::path path;         // a Hugging Face snapshot folder
  std::filesystem::path import_path;  // or vectors computed elsewhere (.npy, .h5)
  std::string import_dataset;         // dataset path inside an .h5 import
  std::string pooling = "mean", dtype = "fp32";
  std::int64_t max_tokens = 512, batch_size = 64;
  std::int64_t batch_tokens = 8192;  // padded tokens per batch at most (0: rows only)
  bool normalize = false;
  bool is_import() const { return !import_path.empty(); }
};

// Lists are swept as a grid; the scalars apply to every run.
struct MoeGrid {
  std::vector<std::int64_t> atoms{32};
  std::vector<std::vector<std::int64_t>> sparsity_sets{{8, 12, 16, 20, 24, 28, 32}};
  std::vector<std::int64_t> strata{5};
  std::vector<std::int64_t> lista_steps{3};
  std::vector<std::string> gates{"attention"};
  std::vector<double> lr{1e-3};
  std::vector<std::int64_t> seeds{0};
  std::int64_t gate_dim = 64, epochs = 100, batch_size = 256, pca_dim = 64;
  double load_balance = 0.0, entropy_weight = 0.0;
  bool standardize = false;
  std::string preset = "paper";  // paper | authors-code
};

struct AnalysisSpec {
  std::string strata_on = "embeddings";  // embeddings | gating
  std::int64_t pca_dim = 0;              // PCA before k-means (0: none)
  std::int64_t kmeans_restarts = 10;
  double variance_fraction = 0.75;
  std::int64_t mle_k = 20;
  std::int64_t bootstrap = 0;  // resamples for confidence intervals (0: none)
  bool null_model = false;     // also run every model's Gaussian null
};

struct ClusterSpec {
  std::int64_t ranks_per_train_job = 1;
  bool share_gpus = false;
  std::int64_t retries = 1;
  double job_timeout_s = 0;  // 0: none
  double heartbeat_s = 10;   // a worker running a job reports this often (0: never)
  double heartbeat_timeout_s = 60;  // a running rank silent this long is given up (6 x heartbeat_s unless set)
  // Text-model embeddings are computed in this many shards, then merged into one embedding.
  // 0: automatic, one shard per embed_shard_rows rows the corpus asks for (see plan.cpp).
  std::int64_t embed_shards = 0;
  std::int64_t embed_shard_rows = 1000;
  // Finished results are committed to the archive in groups (one journal file, fsync and
  // archive open each). An MPI coordinator with a thread-safe HDF5 writes on a thread of its
  // own, and a group is what finished while the previous one was written; otherwise (one
  // process, or no thread safety) a group is committed once its jobs took this many seconds
  // of compute, or its oldest result has waited this long, or nothing else runs. 0: each
  // result alone, as it arrives.
  double commit_interval_s = 1;
};

struct Sweep {
  std::filesystem::path file;
  std::string text;  // the file as written, stored in the archive
  std::string name;
  std::uint64_t seed = 0;
  std::filesystem::path archive;
  bool report = true;
  CorpusSpec corpus;
  std::vector<ModelSpec> models;  // a synthetic corpus adds the model "synthetic"
  MoeGrid moe;
  AnalysisSpec analysis;
  ClusterSpec cluster;
};

Sweep load_sweep(const std::filesystem::path& file);
Sweep parse_sweep(const std::string& text, const std::filesystem::path& file);

}  // namespace strata::sweep

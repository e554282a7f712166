#pragma once
// A sweep file (TOML): the specs of its jobs, read through their schemas (core/spec). Errors
// read "FILE:LINE:COL: message". All relative paths are resolved against the sweep file's folder.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/analysis/analysis_spec.h"
#include "core/analysis/geometry_spec.h"
#include "core/data/corpus_spec.h"
#include "core/moe/config.h"
#include "core/nn/embed_spec.h"
#include "core/spec/schema.h"

namespace strata::sweep {

struct Experiment {
  std::string name;
  std::uint64_t seed = 0;           // every random choice derives from it
  std::filesystem::path archive;    // default results/<name>.h5 beside the sweep file
  bool report = true;
  std::string description;
  static const spec::Schema<Experiment>& schema();
};

// Where and how jobs run: nothing here changes a result.
struct ClusterSpec {
  std::int64_t ranks_per_train_job = 1;
  bool share_gpus = false;
  std::int64_t threads_per_worker = 0;  // 0: the node's cores / its worker ranks (--threads overrides)
  std::int64_t retries = 1;
  double job_timeout_s = 0;         // 0: none
  double heartbeat_s = 10;          // a worker running a job reports this often (0: never)
  double heartbeat_timeout_s = -1;  // a running rank silent this long is given up (< 0: 6 x heartbeat_s)
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
  // Train jobs on the same embedding whose models have equal shapes (moe::fusable) train as one
  // batched model on one rank, at most fuse_max together; false: one by one. Either way a model's
  // result is the one it has alone.
  bool fuse = true;
  std::int64_t fuse_max = 32;
  double heartbeat_timeout() const { return heartbeat_timeout_s < 0 ? 6 * heartbeat_s : heartbeat_timeout_s; }
  static const spec::Schema<ClusterSpec>& schema();
};

struct Sweep {
  std::filesystem::path file;
  std::string text;  // the file as written, stored in the archive
  Experiment experiment;
  CorpusSpec corpus;                   // seed set from the experiment (fingerprint: by the plan)
  std::vector<nn::EmbedSpec> models;   // kind set (text_model | import)
  spec::Grid<moe::MoeConfig> moe;
  spec::Grid<analysis::AnalysisSpec> analysis;  // seed set from the experiment
  analysis::GeometrySpec geometry;              // seed set from the experiment
  ClusterSpec cluster;
};

Sweep load_sweep(const std::filesystem::path& file);
Sweep parse_sweep(const std::string& text, const std::filesystem::path& file);

// Every section of a sweep file with every key: type, default, range, whether it changes a
// result, and what it means (Markdown). `strata keys` prints it; sweeps/REFERENCE.md is it.
std::string keys_reference();

}  // namespace strata::sweep

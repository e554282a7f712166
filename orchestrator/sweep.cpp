#include "orchestrator/sweep.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "core/spec/fields.h"
#include "core/util/error.h"

namespace strata::sweep {

const spec::Schema<Experiment>& Experiment::schema() {
  using S = Experiment;
  static const auto sc = [] {
    spec::Schema<S> s("experiment", "The study: its name, seed and archive.");
    s.add(spec::field(&S::name, "name", "letters, digits, '-', '_', '.'", {}, spec::kRequired | spec::kNonEmpty | spec::kNoId))
        .add(spec::field(&S::seed, "seed", "every random choice derives from it", spec::range(0, 9.2e18)))
        .add(spec::field(&S::archive, "archive", "the HDF5 archive (default: results/<name>.h5 beside the sweep file)", {},
                         spec::kNoId))
        .add(spec::field(&S::report, "report", "write the report after the run", {}, spec::kNoId))
        .add(spec::field(&S::description, "description", "free text, kept in the archive", {}, spec::kNoId));
    s.check([](const S& e, const spec::Reader& r, const std::string& where) {
      for (char c : e.name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
          r.fail(spec::Reader::child(where, "name"), "experiment.name '{}' may hold letters, digits, '-', '_' and '.' only",
                 e.name);
    });
    return s;
  }();
  return sc;
}

const spec::Schema<ClusterSpec>& ClusterSpec::schema() {
  using S = ClusterSpec;
  static const auto sc = [] {
    spec::Schema<S> s("cluster", "Where and how jobs run (under mpirun, or in one process). Nothing here changes a result.");
    s.add(spec::field(&S::ranks_per_train_job, "ranks_per_train_job",
                      "worker ranks that train one model together (data-parallel)", spec::range(1, 1 << 16), spec::kNoId))
        .add(spec::field(&S::share_gpus, "share_gpus",
                         "allow more workers on a node than it has GPUs (they time-share it, each allowed 1/k of its "
                         "memory)", {}, spec::kNoId))
        .add(spec::field(&S::threads_per_worker, "threads_per_worker",
                         "under mpirun: intra-op CPU threads of each worker rank (0: the node's cores divided by its "
                         "worker ranks; --threads overrides)", spec::range(0, 4096), spec::kNoId))
        .add(spec::field(&S::retries, "retries", "attempts after the first, each on another rank when one is free",
                         spec::range(0, 100), spec::kNoId))
        .add(spec::field(&S::job_timeout_s, "job_timeout_s", "give up on a job (and its rank) after this long (0: never)",
                         spec::range(0, 1e9), spec::kNoId))
        .add(spec::field(&S::heartbeat_s, "heartbeat_s", "a worker running a job reports this often (0: never)",
                         spec::range(0, 1e6), spec::kNoId))
        .add(spec::field(&S::heartbeat_timeout_s, "heartbeat_timeout_s",
                         "a running rank silent this long is given up (default: 6 x heartbeat_s)", spec::above(0, 1e9),
                         spec::kNoId))
        .add(spec::field(&S::embed_shards, "embed_shards", "text-model embeddings in this many shards (0: automatic)",
                         spec::range(0, 4096), spec::kNoId))
        .add(spec::field(&S::embed_shard_rows, "embed_shard_rows", "automatic shards: one per this many rows",
                         spec::range(1, 9e15), spec::kNoId))
        .add(spec::field(&S::commit_interval_s, "commit_interval_s",
                         "in one process: commit results in groups of this many compute seconds (0: each alone)",
                         spec::range(0, 1e6), spec::kNoId))
        .add(spec::field(&S::fuse, "fuse",
                         "in one process: train the models of one embedding that have equal shapes (atoms, experts, "
                         "lista_steps, gate, epochs, batch_size, grad_shards, standardize) as one batched model; each "
                         "model's result is the one it has trained alone (false: one by one)", {}, spec::kNoId))
        .add(spec::field(&S::fuse_max, "fuse_max", "at most this many models train together (the device's memory "
                         "bounds it too)", spec::range(1, 4096), spec::kNoId));
    // A timeout within one heartbeat interval would give up on every healthy rank.
    s.check([](const S& c, const spec::Reader& r, const std::string& where) {
      if (c.heartbeat_s > 0 && c.heartbeat_timeout() <= c.heartbeat_s) {
        const std::string key = r.has(spec::Reader::child(where, "heartbeat_timeout_s")) ? "heartbeat_timeout_s" : "heartbeat_s";
        r.fail(spec::Reader::child(where, key), "cluster.heartbeat_timeout_s = {} must be longer than cluster.heartbeat_s = {}",
               c.heartbeat_timeout(), c.heartbeat_s);
      }
    });
    return s;
  }();
  return sc;
}

namespace {

const std::vector<std::string> kSections{"experiment", "corpus", "model", "moe", "analysis", "geometry", "cluster"};

// The stratum counts may stand in [moe] (beside the model they are read with) or in [analysis]
// (the job they belong to): a count in [moe] is read as [analysis] strata.
spec::Reader with_strata_in_analysis(const spec::Reader& r) {
  if (!r.has("/moe/strata")) return r;
  if (r.has("/analysis/strata")) r.fail("/moe/strata", "the stratum counts are given in [moe] and in [analysis]: give them once");
  return r.moved("/moe/strata", "/analysis/strata");
}

void read_models(const spec::Reader& r, Sweep& s) {
  if (!r.has("/model")) return;
  const auto& models = r.at("/model");
  if (!models.is_array() || !std::all_of(models.begin(), models.end(), [](const auto& m) { return m.is_object(); }))
    r.fail("/model", "model must be written as [[model]] tables");
  std::set<std::string> names;
  for (std::size_t i = 0; i < models.size(); ++i) {
    const std::string where = "/model/" + std::to_string(i);
    auto m = spec::read<nn::EmbedSpec>(r, where);
    m.kind = m.is_import() ? "import" : "text_model";
    if (!names.insert(m.name).second) r.fail(where + "/name", "model name '{}' is used twice", m.name);
    s.models.push_back(std::move(m));
  }
}

}  // namespace

Sweep parse_sweep(const std::string& text, const std::filesystem::path& file) {
  const auto raw = spec::Reader::from_toml(text, file);
  const std::string fname = file.string();
  Sweep s;
  s.file = file;
  s.text = text;
  raw.refuse_unknown("", "the sweep", kSections);
  if (!raw.has("/experiment")) throw InputError(fmt::format("{}:1:1: the sweep needs an [experiment] table with a name", fname));
  s.experiment = spec::read<Experiment>(raw, "/experiment");
  if (s.experiment.archive.empty()) s.experiment.archive = (raw.base_dir() / "results" / (s.experiment.name + ".h5")).lexically_normal();
  if (!raw.has("/corpus")) throw InputError(fmt::format("{}:1:1: the sweep needs a [corpus] table", fname));
  s.corpus = spec::read<CorpusSpec>(raw, "/corpus");
  s.corpus.seed = s.experiment.seed;
  s.corpus = canonical(s.corpus);
  read_models(raw, s);
  if (s.corpus.synthetic) {
    for (const auto& m : s.models)
      if (!m.is_import())
        throw InputError(fmt::format("{}: model '{}' reads text but the corpus is synthetic (it has no text)", fname, m.name));
  } else if (s.models.empty()) {
    throw InputError(fmt::format("{}:1:1: the sweep has no [[model]]: nothing to embed", fname));
  }
  const spec::Reader r = with_strata_in_analysis(raw);
  if (r.has("/moe")) s.moe = spec::read_grid<moe::MoeConfig>(r, "/moe");
  if (r.has("/analysis")) s.analysis = spec::read_grid<analysis::AnalysisSpec>(r, "/analysis");
  s.analysis.base.seed = s.experiment.seed;
  if (r.has("/geometry")) s.geometry = spec::read<analysis::GeometrySpec>(r, "/geometry");
  s.geometry.seed = s.experiment.seed;
  if (r.has("/cluster")) s.cluster = spec::read<ClusterSpec>(r, "/cluster");
  // Each rank of a train job computes whole gradient shards (core/moe/trainer.h).
  for (const auto& m : s.moe.expand())
    if (m.grad_shards < s.cluster.ranks_per_train_job)
      r.fail(r.has("/cluster/ranks_per_train_job") ? "/cluster/ranks_per_train_job" : "/moe/grad_shards",
             "cluster.ranks_per_train_job = {} needs moe.grad_shards >= {} (each rank computes whole gradient shards; "
             "the shards, not the ranks, decide the result), but moe.grad_shards = {}",
             s.cluster.ranks_per_train_job, s.cluster.ranks_per_train_job, m.grad_shards);
  return s;
}

Sweep load_sweep(const std::filesystem::path& file) {
  if (std::error_code ec; std::filesystem::is_directory(file, ec)) fail_input("{}: a folder, not a sweep file", file.string());
  std::ifstream in(file, std::ios::binary);
  if (!in) fail_input("{}: cannot open the sweep file (no such file?)", file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_sweep(ss.str(), file);
}

std::string keys_reference() {
  std::string out =
      "# Sweep file reference\n\n"
      "Every section and key a sweep file may hold, generated from the specs' declarations "
      "(`strata keys` prints this page). Relative paths are relative to the sweep file's folder. "
      "\"changes results\" says whether a key enters the job ids: a key that does not never makes "
      "`--resume` recompute anything; \"by content\" means the file's or folder's content enters the "
      "ids, not its path.\n\n";
  out += spec::reference_markdown(Experiment::schema().info());
  out += spec::reference_markdown(CorpusSpec::schema().info());
  out += spec::reference_markdown(nn::EmbedSpec::schema().info());
  out += spec::reference_markdown(moe::MoeConfig::schema().info());
  out += spec::reference_markdown(analysis::AnalysisSpec::schema().info());
  out += spec::reference_markdown(analysis::GeometrySpec::schema().info());
  out += spec::reference_markdown(ClusterSpec::schema().info());
  return out;
}

}  // namespace strata::sweep

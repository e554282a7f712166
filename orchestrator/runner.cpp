#include "orchestrator/runner.h"

#include <chrono>

#include "cluster/device.h"
#include "core/util/error.h"
#include "core/util/log.h"
#include "orchestrator/archive.h"
#include "orchestrator/report.h"
#include "orchestrator/summary.h"

namespace strata {

namespace {

using workers::Payload;

Payload load(const Archive& a, const std::string& object) {
  auto f = a.open_result(object);
  return Payload::read(f.root().open(object.substr(1)));
}

torch::Tensor domain_index(const Corpus& c, std::int64_t* count) {
  const auto names = c.source_names();
  std::vector<std::int64_t> idx;
  idx.reserve(c.size());
  for (const auto& s : c.source)
    idx.push_back(std::find(names.begin(), names.end(), s) - names.begin());
  *count = static_cast<std::int64_t>(names.size());
  return torch::tensor(idx, torch::kInt64);
}

// One job with retries: a RunError (or any non-input exception) is retried; bad input is not.
template <typename F>
bool attempt(const std::string& what, std::int64_t retries, F&& body, std::string* error) {
  for (std::int64_t i = 0; i <= retries; ++i) {
    try {
      body();
      return true;
    } catch (const InputError&) {
      throw;
    } catch (const std::exception& e) {
      *error = e.what();
      log::warn("{} failed (attempt {} of {}): {}", what, i + 1, retries + 1, e.what());
    }
  }
  return false;
}

class SweepRun {
 public:
  SweepRun(const sweep::Sweep& s, const RunOptions& opt)
      : s_(s), opt_(opt), plan_(plan::make_plan(s)),
        archive_(opt.archive.empty() ? s.archive : opt.archive, opt.resume, s.text),
        device_(cluster::select_device(opt.device)) {}

  int run() {
    const auto t0 = std::chrono::steady_clock::now();
    total_ = 1 + plan_.embeds.size() + plan_.trains.size() + plan_.analyses.size();
    corpus();
    for (const auto& e : plan_.embeds) embed(e);
    for (const auto& t : plan_.trains) train(t);
    for (const auto& a : plan_.analyses) analyse(a);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    log::info("{} jobs: {} computed, {} already in the archive, {} failed ({:.1f} s)", total_, computed_, reused_,
              failed_, secs);
    return failed_ > 0 ? 1 : 0;
  }

  const std::filesystem::path& archive_path() const { return archive_.file(); }

 private:
  bool skip(const std::string& object, const std::string& id, const std::string& what) {
    archive_.check_no_conflict(object, id, what);
    if (!archive_.done(object, id)) return false;
    ++reused_;
    ++count_;
    return true;
  }

  void progress(const std::string& line, double seconds) {
    ++count_;
    ++computed_;
    log::info("[{}/{}] {} ({:.2f} s)", count_, total_, line, seconds);
  }

  void corpus() {
    const std::string object = "/corpus";
    if (!skip(object, plan_.corpus_id, "a corpus")) {
      const auto t0 = std::chrono::steady_clock::now();
      const Corpus c = workers::build_corpus(corpus_job(s_));
      if (c.size() == 0) fail_input("{}: the corpus is empty", s_.file.string());
      archive_.commit(object, plan_.corpus_id, plan_.corpus_config,
                      [&](io::h5::Group& g) { workers::corpus_payload(c).write(g); });
      progress(fmt::format("corpus {} rows from {} sources", c.size(), c.source_names().size()), elapsed(t0));
    }
    corpus_ = workers::corpus_from_payload(load(archive_, object));
    domain_ = domain_index(corpus_, &domains_);
  }

  void embed(const plan::EmbedJob& e) {
    const std::string object = "/embeddings/" + e.name;
    if (skip(object, e.id, "embeddings")) return;
    const auto t0 = std::chrono::steady_clock::now();
    torch::Tensor source;
    if (e.kind == plan::EmbedKind::null_model) source = embeddings(e.null_of);
    const auto p = workers::run_embed(embed_job(s_, e), corpus_, device_, source.defined() ? &source : nullptr);
    archive_.commit(object, e.id, e.config, [&](io::h5::Group& g) { p.write(g); });
    progress(fmt::format("embeddings {} [{} x {}]", e.name, p.tensor("data").size(0), p.tensor("data").size(1)),
             elapsed(t0));
  }

  void train(const plan::TrainJob& t) {
    const std::string object = "/trained/" + t.id;
    if (skip(object, t.id, "a trained model")) return;
    const auto t0 = std::chrono::steady_clock::now();
    std::string error;
    const auto X = embeddings(t.embedding);
    const auto labels = torch::tensor(corpus_.label, torch::kInt64);
    Payload p;
    const bool ok = attempt("train " + t.id, s_.cluster.retries,
                            [&] { p = workers::run_train(train_job(t), X, labels, device_); }, &error);
    if (!ok) return fail(object, t.id, t.config, error);
    archive_.commit(object, t.id, t.config, [&](io::h5::Group& g) {
      p.write(g);
      g.set_attr("embedding", t.embedding);
    });
    progress(fmt::format("train {} on {} (loss {:.4g})", t.id, t.embedding, p.numbers.at("final_loss")), elapsed(t0));
  }

  void analyse(const plan::AnalysisJob& a) {
    const std::string object = "/runs/" + a.id;
    if (skip(object, a.id, "a run")) return;
    const std::string trained = "/trained/" + a.train_id;
    if (!archive_.done(trained, a.train_id)) return fail(object, a.id, a.config, "its train job " + a.train_id + " failed");
    const auto t0 = std::chrono::steady_clock::now();
    const auto tp = load(archive_, trained);
    workers::AnalysisInputs in{embeddings(a.embedding), tp.tensor("out/gating"), tp.tensor("sparsity"), domain_,
                               domains_};
    std::string error;
    Payload p;
    const bool ok = attempt("analysis " + a.id, s_.cluster.retries,
                            [&] { p = workers::run_analysis(analysis_job(a), in); }, &error);
    if (!ok) return fail(object, a.id, a.config, error);
    auto config = plan_.train(a.train_id).config;
    config.update(a.config);
    std::map<std::string, std::string> links{{"params", trained + "/params"},
                                             {"train", trained + "/train"},
                                             {"out/gating", trained + "/out/gating"},
                                             {"out/recon_error", trained + "/out/recon_error"},
                                             {"out/support", trained + "/out/support"},
                                             {"trained", trained}};
    archive_.commit(
        object, a.id, config,
        [&](io::h5::Group& g) {
          p.write(g);
          g.set_attr("train_id", a.train_id);
          g.set_attr("embedding", a.embedding);
          g.set_attr("strata", a.strata);
        },
        links);
    progress(fmt::format("analysis {} ({} strata of {})", a.id, a.strata, a.embedding), elapsed(t0));
  }

  void fail(const std::string& object, const std::string& id, const nlohmann::json& config, const std::string& error) {
    ++failed_;
    ++count_;
    archive_.mark_failed(object, id, config, error);
    log::warn("[{}/{}] {} failed: {}", count_, total_, object, error);
  }

  torch::Tensor embeddings(const std::string& name) {
    auto it = cache_.find(name);
    if (it != cache_.end()) return it->second;
    const auto t = load(archive_, "/embeddings/" + name).tensor("data");
    cache_[name] = t;
    return t;
  }

  static double elapsed(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  const sweep::Sweep& s_;
  RunOptions opt_;
  plan::Plan plan_;
  Archive archive_;
  torch::Device device_;
  Corpus corpus_;
  torch::Tensor domain_;
  std::int64_t domains_ = 0;
  std::map<std::string, torch::Tensor> cache_;
  std::size_t total_ = 0, count_ = 0, computed_ = 0, reused_ = 0, failed_ = 0;
};

// Every input file is looked at before the archive is touched, so a typo costs nothing.
void check_inputs(const sweep::Sweep& s) {
  const std::string sweep_file = s.file.string();
  for (const auto& src : s.corpus.sources)
    if (!std::filesystem::exists(src.path))
      fail_input("{}: no such file or folder (source '{}' of {})", src.path.string(), src.name, sweep_file);
  if (s.corpus.table && !std::filesystem::exists(*s.corpus.table))
    fail_input("{}: no such file (corpus table of {})", s.corpus.table->string(), sweep_file);
  for (const auto& m : s.models) {
    if (m.is_import() && !std::filesystem::exists(m.import_path))
      fail_input("{}: no such file (vectors of model '{}' in {})", m.import_path.string(), m.name, sweep_file);
    if (!m.is_import() && !std::filesystem::exists(m.path / "config.json"))
      fail_input("{}: no Hugging Face snapshot here (config.json missing; model '{}' of {})", m.path.string(), m.name,
                 sweep_file);
  }
}

}  // namespace

workers::CorpusJob corpus_job(const sweep::Sweep& s) {
  workers::CorpusJob j;
  for (const auto& src : s.corpus.sources)
    j.sources.push_back({src.name, src.format, src.split, src.text_field, src.label_field, src.id_field,
                         src.source_column, src.path, src.text_fields});
  j.per_source = s.corpus.samples_per_source;
  j.sampling = s.corpus.sampling;
  j.balance_labels = s.corpus.balance_labels;
  j.min_chars = s.corpus.min_chars;
  j.max_chars = s.corpus.max_chars;
  j.seed = s.seed;
  j.table = s.corpus.table;
  j.synthetic = s.corpus.synthetic;
  return j;
}

workers::EmbedJob embed_job(const sweep::Sweep& s, const plan::EmbedJob& e) {
  workers::EmbedJob j;
  switch (e.kind) {
    case plan::EmbedKind::text_model: j.kind = "text_model"; break;
    case plan::EmbedKind::import: j.kind = "import"; break;
    case plan::EmbedKind::synthetic: j.kind = "synthetic"; break;
    case plan::EmbedKind::null_model: j.kind = "null_model"; break;
  }
  j.model_path = e.model.path;
  j.import_path = e.model.import_path;
  j.import_dataset = e.model.import_dataset;
  j.pooling = e.model.pooling;
  j.dtype = e.model.dtype;
  j.max_tokens = e.model.max_tokens;
  j.batch_size = e.model.batch_size;
  j.normalize = e.model.normalize;
  j.synthetic = s.corpus.synthetic;
  j.seed = s.seed;
  return j;
}

workers::TrainJob train_job(const plan::TrainJob& t) {
  const auto& c = t.config;
  workers::TrainJob j;
  j.atoms = c["atoms"];
  j.sparsity = c["sparsity"].get<std::vector<std::int64_t>>();
  j.lista_steps = c["lista_steps"];
  j.gate = c["gate"];
  j.lr = c["lr"];
  j.seed = c["seed"];
  j.gate_dim = c["gate_dim"];
  j.epochs = c["epochs"];
  j.batch_size = c["batch_size"];
  j.pca_dim = c["pca_dim"];
  j.load_balance = c["load_balance"];
  j.entropy_weight = c["entropy_weight"];
  j.standardize = c["standardize"];
  j.preset = c["preset"];
  return j;
}

workers::AnalysisJob analysis_job(const plan::AnalysisJob& a) {
  const auto& c = a.config;
  workers::AnalysisJob j;
  j.strata = a.strata;
  j.strata_on = c["strata_on"];
  j.pca_dim = c["pca_dim"];
  j.kmeans_restarts = c["kmeans_restarts"];
  j.variance_fraction = c["variance_fraction"];
  j.mle_k = c["mle_k"];
  j.bootstrap = c["bootstrap"];
  j.seed = c["seed"];
  return j;
}

int run_sweep(const sweep::Sweep& s, const RunOptions& opt) {
  if (opt.threads > 0) torch::set_num_threads(opt.threads);
  check_inputs(s);
  SweepRun run(s, opt);
  const int code = run.run();
  std::fputs(summarize_archive(run.archive_path(), true).c_str(), stdout);
  if (opt.report && s.report) write_report(run.archive_path());
  return code;
}

}  // namespace strata

#include "orchestrator/runner.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "cluster/device.h"
#include "core/moe/trainer.h"
#include "core/util/error.h"
#include "core/util/log.h"
#include "orchestrator/archive.h"
#include "orchestrator/archive_writer.h"
#include "orchestrator/job_graph.h"
#include "orchestrator/plan.h"
#include "orchestrator/progress.h"
#include "orchestrator/report.h"
#include "orchestrator/summary.h"

namespace strata {

namespace {

using workers::Payload;

enum class State { waiting, running, done, failed };

class Scheduler {
 public:
  Scheduler(const sweep::Sweep& s, Archive& archive, Executor& ex, progress::Progress& progress)
      : s_(s), ex_(ex), progress_(progress), nodes_(job_graph(s, plan::make_plan(s))),
        state_(nodes_.size(), State::waiting), attempts_(nodes_.size(), 0), writer_(archive, !ex.runs_jobs_here(), s.cluster.commit_interval_s > 0) {
    for (std::size_t i = 0; i < nodes_.size(); ++i) index_[nodes_[i].request.object] = i;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      for (const auto& in : nodes_[i].request.inputs) readers_[in.object].push_back(i);
  }
  ~Scheduler() { ex_.on_heartbeat(nullptr); }  // the listener points here
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  int run() {
    std::vector<progress::Job> jobs;
    for (const auto& n : nodes_) jobs.push_back({n.request.object, n.request.kind, n.label, n.request.cost});
    progress_.run_started(jobs, static_cast<int>(ex_.capacity()), ex_.heartbeat_s(), ex_.where());
    ex_.on_heartbeat([this](int rank) { progress_.heartbeat(rank); });
    find_finished();
    skip_unneeded();
    find_ready();
    try {
      while (true) {
        submit_ready();
        if (commit_due()) commit_pending();
        if (running_ == 0) break;
        finish(ex_.wait());
      }
      commit_pending();
      writer_.wait();
    } catch (const StorageError&) {
      throw;  // the archive takes no more writes
    } catch (...) {
      keep_pending();
      throw;
    }
    progress_.run_finished();
    return failed_ > 0 ? 1 : 0;
  }

 private:
  // A finished job whose result is not in the archive yet.
  struct Pending {
    std::size_t node;
    std::shared_ptr<const Outcome> outcome;
  };

  // What the archive already holds (one open for all jobs); conflicts are refused here.
  void find_finished() {
    std::vector<Archive::Job> keys;
    for (const auto& n : nodes_)
      keys.push_back({n.request.object, n.request.id, n.intermediate ? "" : n.what, n.replace_on_change});
    std::vector<bool> done;
    // Conflicts are refused before the archive's first write (start).
    writer_.run([&](Archive& a) {
      done = a.check_done(keys);
      a.start();
    });
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!done[i]) continue;
      state_[i] = State::done;
      progress_.job_reused(nodes_[i].request.object);
    }
  }

  std::size_t index_of(const std::string& object) const {
    const auto it = index_.find(object);
    if (it == index_.end()) fail_run("no job produces {}", object);
    return it->second;
  }
  // Whether a job that has not ended reads `object`.
  bool still_read(const std::string& object) const {
    const auto it = readers_.find(object);
    if (it == readers_.end()) return false;
    for (std::size_t j : it->second)
      if (state_[j] == State::waiting || state_[j] == State::running) return true;
    return false;
  }
  const std::vector<std::size_t>& readers_of(std::size_t i) const {
    static const std::vector<std::size_t> none;
    const auto it = readers_.find(nodes_[i].request.object);
    return it == readers_.end() ? none : it->second;
  }

  // Counts what each waiting job still lacks; those lacking nothing are ready.
  void find_ready() {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (state_[i] != State::waiting) continue;
      for (const auto& in : nodes_[i].request.inputs) missing_[i] += state_[index_of(in.object)] != State::done;
      if (missing_[i] == 0) make_ready(i);
    }
  }
  // Costliest first; ties in graph order.
  void make_ready(std::size_t i) { ready_.insert({-nodes_[i].request.cost, i}); }
  // Job i is done: the jobs reading it lack one input less.
  void inputs_arrived(std::size_t i) {
    for (std::size_t j : readers_of(i))
      if (state_[j] == State::waiting && --missing_[j] == 0) make_ready(j);
  }

  // Submits ready jobs, costliest first, while the executor has room.
  void submit_ready() {
    for (auto it = ready_.begin(); it != ready_.end();) {
      const std::size_t i = it->second;
      // A job that needs more idle ranks than there are holds them: cheaper jobs wait too,
      // or single-rank jobs would keep taking the ranks a data-parallel job waits for.
      if (!ex_.has_room(nodes_[i].request)) break;
      if (!ex_.can_take(nodes_[i].request)) {
        ++it;
        continue;
      }
      it = ready_.erase(it);
      const auto group = fuse_group(i);
      std::vector<const workers::JobRequest*> requests;
      for (std::size_t j : group) {
        if (j != i) ready_.erase({-nodes_[j].request.cost, j});
        state_[j] = State::running;
        requests.push_back(&nodes_[j].request);
      }
      ++running_;  // one outcome, even for a group
      const auto loader = [this](const std::string& object) -> const Payload& { return input(object); };
      int rank = 0;
      if (group.size() == 1) {
        rank = ex_.submit(nodes_[i].request, loader);
      } else {
        groups_[i] = group;
        rank = ex_.submit(workers::fused_request(requests), loader);
        it = ready_.begin();  // members were taken out of the set
      }
      for (std::size_t j : group) progress_.job_started(nodes_[j].request.object, rank);
    }
  }

  // The ready train jobs that train together with job i as one batched model (i first): same
  // inputs, fusable models, first attempts in this process, at most fuse_max, within the memory
  // the executor offers. Just {i} for any other job.
  std::vector<std::size_t> fuse_group(std::size_t i) {
    std::vector<std::size_t> group{i};
    const auto& lead = nodes_[i].request;
    // Under mpirun a group's failure on a rank is not yet told apart per member (the retry of a
    // member could go back to that rank): models train one by one there for now.
    if (!s_.cluster.fuse || !ex_.runs_jobs_here() || !fusable_alone(i)) return group;
    std::vector<moe::MoeConfig> cfgs{model_of(i)};
    const auto& X = input(lead.input("embedding")).tensor("data");
    const double budget = ex_.fuse_memory();
    for (const auto& [cost, j] : ready_) {
      if (static_cast<std::int64_t>(group.size()) >= s_.cluster.fuse_max) break;
      if (j == i || !fusable_alone(j) || nodes_[j].request.inputs != lead.inputs || !moe::fusable(cfgs.front(), model_of(j)))
        continue;
      cfgs.push_back(model_of(j));
      if (budget > 0 && moe::group_training_bytes(cfgs, X.size(0), X.size(1)) > budget) {
        cfgs.pop_back();
        continue;
      }
      group.push_back(j);
    }
    return group;
  }
  // A train job that may join a group: on one rank, and not a retry (which runs alone, so a
  // member that failed in a group fails or succeeds by itself).
  bool fusable_alone(std::size_t j) const {
    const auto& r = nodes_[j].request;
    return r.kind == "train" && ex_.ranks_for(r) == 1 && attempts_[j] == 0;
  }
  const moe::MoeConfig& model_of(std::size_t j) {
    auto it = models_.find(j);
    if (it == models_.end())
      it = models_.emplace(j, spec::from_json<moe::MoeConfig>(nodes_[j].request.spec, "train job " + nodes_[j].request.id)).first;
    return it->second;
  }

  // A job has ended. A result counts as done at once (the jobs reading it can start, served
  // from memory) and waits to be committed with others (commit_due).
  void finish(Outcome o) {
    const std::size_t i = index_of(o.object);
    if (const auto g = groups_.find(i); g != groups_.end()) {
      const auto members = g->second;
      groups_.erase(g);
      return finish_group(std::move(o), members);
    }
    --running_;
    const auto& node = nodes_[i];
    if (o.input_error) throw InputError(o.error);
    if (o.not_run) {
      state_[i] = State::waiting;
      make_ready(i);
      return;
    }
    if (!o.ok) {
      ++attempts_[i];
      progress::Failure f{o.error, o.rank, attempts_[i], s_.cluster.retries + 1, attempts_[i] > s_.cluster.retries,
                          o.rank_lost};
      if (!f.final) {
        state_[i] = State::waiting;
        make_ready(i);
        progress_.job_failed(node.request.object, f);
        return;
      }
      return fail(i, f);
    }
    state_[i] = State::done;
    inputs_arrived(i);
    progress_.job_done(node.request.object, o.rank, o.seconds, o.inputs_held);
    if (still_read(node.request.object)) cache_[node.request.object] = o.payload;
    if (pending_.empty()) pending_since_ = std::chrono::steady_clock::now();
    pending_seconds_ += o.seconds;
    pending_.push_back({i, std::make_shared<const Outcome>(std::move(o))});
    release_inputs(node);
  }

  // A group's outcome is its members' outcomes, each as if it had run alone (its share of the
  // time); a member that failed in it is retried alone.
  void finish_group(Outcome o, const std::vector<std::size_t>& members) {
    running_ += members.size() - 1;  // finish() counts each member's end
    const Payload all = std::move(o.payload);
    for (std::size_t k = 0; k < members.size(); ++k) {
      Outcome m = o;
      m.object = nodes_[members[k]].request.object;
      m.seconds = o.seconds / static_cast<double>(members.size());
      if (o.ok) {
        m.payload = all.part(workers::fused_member_prefix(k));
        if (const auto f = m.payload.attrs.find("failure"); f != m.payload.attrs.end()) {
          m.ok = false;
          m.error = f->second;
          m.payload = {};
        }
      }
      finish(std::move(m));
    }
  }

  // Grouping results makes a commit's fixed costs (a file, an fsync, an archive open) matter
  // for tiny jobs no more. A writer of its own groups what finishes while it writes; here,
  // the interval bounds what a crash can cost in recomputation.
  bool commit_due() const {
    if (pending_.empty()) return false;
    const double interval = s_.cluster.commit_interval_s;
    if (writer_.background() || running_ == 0 || interval <= 0 || pending_seconds_ >= interval) return true;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - pending_since_).count() >= interval;
  }

  void commit_pending() {
    if (pending_.empty()) return;
    std::vector<Archive::Result> results;
    for (const auto& p : pending_) {
      const JobNode* node = &nodes_[p.node];  // nodes_ outlives the writer
      auto write = [node, o = p.outcome](io::h5::Group& g) {
        // What the object links to another is not written twice (a layer's rows are its model's).
        Payload own = o->payload;
        for (const auto& link : node->links) own.tensors.erase(link.first);
        own.write(g);
        for (const auto& [k, v] : node->attrs) g.set_attr(k, v);
        g.set_attr("seconds", o->seconds);
        g.set_attr("rank", static_cast<std::int64_t>(o->rank));
        g.set_attr("ranks", static_cast<std::int64_t>(o->ranks));
      };
      results.push_back({node->request.object, node->request.id, node->config, write, node->links});
    }
    writer_.commit(std::move(results));
    pending_.clear();
    pending_seconds_ = 0;
  }

  // The run is ending with an error: what finished still goes to the archive.
  void keep_pending() noexcept {
    try {
      commit_pending();
      writer_.wait();
    } catch (const std::exception& e) {
      log::warn("finished results could not all be committed: {}", e.what());
    }
  }

  // An intermediate job (an embedding shard) whose readers are all in the archive is not
  // needed: e.g. an embedding made unsharded and resumed with shards.
  void skip_unneeded() {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i].intermediate || state_[i] == State::done) continue;
      bool needed = false;
      if (const auto r = readers_.find(nodes_[i].request.object); r != readers_.end())
        for (std::size_t j : r->second) needed = needed || state_[j] != State::done;
      if (needed) continue;
      state_[i] = State::done;
      progress_.job_reused(nodes_[i].request.object);
    }
  }

  // Drops inputs of a finished job that no unfinished job reads (e.g. the shards of a merged
  // embedding), here and on the ranks that keep them, so none holds them for the rest of the
  // sweep.
  void release_inputs(const JobNode& finished) {
    for (const auto& [role, object] : finished.request.inputs) {
      if (still_read(object)) continue;
      cache_.erase(object);
      ex_.release(object);
    }
  }

  void fail(std::size_t i, const progress::Failure& f) {
    state_[i] = State::failed;
    ++failed_;
    const auto& r = nodes_[i].request;
    writer_.post([object = r.object, id = r.id, config = nodes_[i].config, error = f.error](Archive& a) {
      a.mark_failed(object, id, config, error);
    });
    progress_.job_failed(r.object, f);
    release_inputs(nodes_[i]);
    // What reads it cannot run.
    for (std::size_t j : readers_of(i)) {
      if (state_[j] != State::waiting) continue;
      progress::Failure g;
      g.error = "an input failed: " + r.object;
      g.attempts = s_.cluster.retries + 1;
      fail(j, g);
    }
  }

  // Inputs are read from the archive once and kept while jobs still need them.
  const Payload& input(const std::string& object) {
    auto it = cache_.find(object);
    if (it != cache_.end()) return it->second;
    Payload p;
    writer_.run([&](Archive& a) { p = Payload::read(a.open_result(object).root().open(object.substr(1))); });
    return cache_.emplace(object, std::move(p)).first->second;
  }

  const sweep::Sweep& s_;
  Executor& ex_;
  progress::Progress& progress_;
  std::vector<JobNode> nodes_;
  std::vector<State> state_;
  std::vector<std::int64_t> attempts_;
  std::vector<std::size_t> missing_ = std::vector<std::size_t>(nodes_.size(), 0);  // inputs not done yet
  std::set<std::pair<double, std::size_t>> ready_;  // (-cost, node) of the jobs that can run now
  std::map<std::string, std::size_t> index_;                 // object -> node
  std::map<std::string, std::vector<std::size_t>> readers_;  // object -> the nodes that read it
  std::map<std::string, Payload> cache_;
  std::map<std::size_t, std::vector<std::size_t>> groups_;  // first member -> the members of a running group
  std::map<std::size_t, moe::MoeConfig> models_;            // train jobs' configurations, parsed once
  std::vector<Pending> pending_;
  double pending_seconds_ = 0;
  std::chrono::steady_clock::time_point pending_since_;
  std::size_t running_ = 0, failed_ = 0;
  ArchiveWriter writer_;  // last: it stops before what its queued work points to
};

}  // namespace

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

std::filesystem::path archive_path(const sweep::Sweep& s, const RunOptions& opt) {
  return opt.archive.empty() ? s.experiment.archive : opt.archive;
}

int run_jobs(const sweep::Sweep& s, const RunOptions& opt, Executor& executor) {
  Archive archive(archive_path(s, opt), opt.resume, s.text);
  const auto progress = progress::make(opt.progress);
  Scheduler scheduler(s, archive, executor, *progress);
  return scheduler.run();
}

int run_sweep(const sweep::Sweep& s, const RunOptions& opt) {
  if (opt.threads > 0) torch::set_num_threads(opt.threads);
  check_inputs(s);
  LocalExecutor executor(cluster::select_device(opt.device));
  const int code = run_jobs(s, opt, executor);
  if (opt.summary) std::fputs(summarize_archive(archive_path(s, opt), true).c_str(), stdout);
  if (opt.report && s.experiment.report) write_report(archive_path(s, opt));
  return code;
}

}  // namespace strata

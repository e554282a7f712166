#pragma once
// How a run tells its progress. The scheduler reports events (a job started, finished, was
// reused or failed; a worker is alive) to one Progress, which keeps the bookkeeping in a
// Tally and shows it one of three ways: a live display redrawn in place on a terminal, one
// log line per event, or one JSON object per event on stdout for pipelines.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace strata::progress {

struct Job {
  std::string object;  // the archive object it produces: the job's name in events
  std::string kind;    // corpus | embed | train | analysis
  std::string label;   // one line for people
  double cost = 0;     // the scheduler's estimate; comparable between jobs of one kind only
};

struct KindCounts {
  std::size_t total = 0, computed = 0, reused = 0, failed = 0;
  double seconds = 0;    // summed over the computed jobs
  double cost_done = 0;  // their summed cost estimates
  std::size_t finished() const { return computed + reused + failed; }
};

struct RankState {
  std::string object;  // the job it runs; empty: idle
  double since = 0;    // when that job started
  double heard = 0;    // its last sign of life: the start or a heartbeat
  bool lost = false;   // given up: it gets no more work
};

// Counts per kind, what each rank runs, throughput and the time left. Times are seconds
// since the run started, given by the caller.
class Tally {
 public:
  void plan(const std::vector<Job>& jobs, int workers);
  const Job& job(const std::string& object) const;

  void reused(const std::string& object);
  void started(const std::string& object, int rank, double now);
  void done(const std::string& object, int rank, double seconds);
  // A failed attempt frees its rank (rank < 0: the job never ran, e.g. an input failed).
  // `final`: the job is given up and counts as failed; otherwise it waits for a retry.
  void failed(const std::string& object, int rank, bool final, bool rank_lost);
  void heard(int rank, double now);

  std::size_t total() const { return total_; }
  std::size_t computed() const;
  std::size_t reused_count() const;
  std::size_t failed_count() const;
  std::size_t finished() const { return computed() + reused_count() + failed_count(); }
  int workers() const { return workers_; }
  // In the order kinds first appear in the plan (the order they run in).
  const std::vector<std::string>& kind_order() const { return kind_order_; }
  const std::map<std::string, KindCounts>& kinds() const { return kinds_; }
  const std::map<int, RankState>& ranks() const { return ranks_; }

  // Jobs computed per minute of the run so far.
  double jobs_per_minute(double now) const;
  // Seconds until every job has finished: each unfinished job takes what its kind's
  // computed jobs took per unit of cost (their mean time where costs are not known), a
  // running job what is left of that, and the work is shared by the workers. Empty while
  // a kind with unfinished jobs has none computed yet.
  std::optional<double> eta_seconds(double now) const;

 private:
  enum class State { waiting, running, done, failed };
  struct Entry {
    Job job;
    State state = State::waiting;
    int rank = -1;
    double since = 0;
  };
  std::optional<double> estimate(const Entry& e) const;
  Entry& entry(const std::string& object);
  void free_rank(int rank);

  std::map<std::string, Entry> jobs_;
  std::vector<std::string> kind_order_;
  std::map<std::string, KindCounts> kinds_;
  std::map<int, RankState> ranks_;
  std::size_t total_ = 0;
  int workers_ = 1;
};

// Why an attempt failed, and what happens next.
struct Failure {
  std::string error;
  int rank = -1;          // -1: the job never ran (an input failed)
  std::int64_t attempt = 0, attempts = 0;  // this attempt of how many allowed
  bool final = true;      // given up; otherwise retried
  bool rank_lost = false;  // the rank was given up too
};

// The events of a run. Each updates the tally, then the display shows it; events may come
// from any thread.
class Progress {
 public:
  virtual ~Progress() = default;

  void run_started(const std::vector<Job>& jobs, int workers, double heartbeat_s, const std::string& where);
  void job_reused(const std::string& object);
  void job_started(const std::string& object, int rank);
  // `inputs_held`: how many job inputs the rank keeps after the job (-1: not told).
  void job_done(const std::string& object, int rank, double seconds, int inputs_held = -1);
  void job_failed(const std::string& object, const Failure& f);
  void heartbeat(int rank);
  void run_finished();

 protected:
  virtual void on_run_started() {}
  virtual void on_job_reused(const Job&) {}
  virtual void on_job_started(const Job&, int /*rank*/) {}
  virtual void on_job_done(const Job&, int /*rank*/, double /*seconds*/, int /*inputs_held*/) {}
  virtual void on_job_failed(const Job&, const Failure&) {}
  virtual void on_run_finished(double /*seconds*/) {}

  double now() const;

  // Held while an event is handled; a display redrawing by itself takes it too.
  std::mutex mutex_;
  Tally tally_;
  double heartbeat_s_ = 0;
  std::string where_;

 private:
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

// What each kind of display is chosen for at the command line.
enum class Style {
  live,  // a terminal: redrawn in place on stderr
  log,   // one line per event on stderr (--quiet: warnings only)
  json,  // one JSON object per event on stdout (--log-json)
};

std::unique_ptr<Progress> make(Style style);

// One line per event through the log, as a run has always printed them.
class LogLines final : public Progress {
 protected:
  void on_job_done(const Job& j, int rank, double seconds, int inputs_held) override;
  void on_job_failed(const Job& j, const Failure& f) override;
  void on_job_started(const Job& j, int rank) override;
  void on_run_finished(double seconds) override;
};

// One JSON object per line and event: run_started, job_started, job_done, job_reused,
// job_failed, run_finished. Each has "event" and "t" (seconds since the run started).
// Failures are also logged as warnings (stderr).
class JsonLines final : public Progress {
 public:
  explicit JsonLines(std::ostream& out) : out_(out) {}

 protected:
  void on_run_started() override;
  void on_job_reused(const Job& j) override;
  void on_job_started(const Job& j, int rank) override;
  void on_job_done(const Job& j, int rank, double seconds, int inputs_held) override;
  void on_job_failed(const Job& j, const Failure& f) override;
  void on_run_finished(double seconds) override;

 private:
  void emit(const std::string& line);
  std::ostream& out_;
};

// The live display's lines for a tally at `now`, each cut to `width` columns: a headline
// (jobs done, throughput, ETA), a line per kind, a line per rank.
std::vector<std::string> render(const Tally& t, double now, double heartbeat_s, std::size_t width);

// Redraws render()'s lines in place on a terminal (ANSI escapes), at most four times a
// second, from a thread of its own. Warnings and log lines are printed above them.
class LiveDisplay final : public Progress {
 public:
  explicit LiveDisplay(std::FILE* out = stderr);
  ~LiveDisplay() override;
  LiveDisplay(const LiveDisplay&) = delete;
  LiveDisplay& operator=(const LiveDisplay&) = delete;

 protected:
  void on_run_started() override;
  void on_job_failed(const Job& j, const Failure& f) override;
  void on_run_finished(double seconds) override;

 private:
  struct Ticker;
  // With mutex_ held:
  void draw();
  void erase();
  void above(const std::string& line);  // a line above the display

  std::FILE* out_;
  bool showing_ = false;   // between run_started and run_finished
  std::size_t drawn_ = 0;  // lines on screen now
  std::vector<std::string> shown_;  // and what they say
  std::unique_ptr<Ticker> ticker_;
};

}  // namespace strata::progress

#include "orchestrator/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/util/error.h"
#include "core/util/log.h"

namespace strata::progress {

// ---- Tally -------------------------------------------------------------------------------

void Tally::plan(const std::vector<Job>& jobs, int workers) {
  jobs_.clear();
  kinds_.clear();
  kind_order_.clear();
  ranks_.clear();
  for (const auto& j : jobs) {
    if (!jobs_.emplace(j.object, Entry{j}).second) fail_run("progress: job {} is planned twice", j.object);
    if (!kinds_.count(j.kind)) kind_order_.push_back(j.kind);
    ++kinds_[j.kind].total;
  }
  total_ = jobs.size();
  workers_ = std::max(workers, 1);
}

Tally::Entry& Tally::entry(const std::string& object) {
  auto it = jobs_.find(object);
  if (it == jobs_.end()) fail_run("progress: no job {} in the plan", object);
  return it->second;
}

const Job& Tally::job(const std::string& object) const {
  auto it = jobs_.find(object);
  if (it == jobs_.end()) fail_run("progress: no job {} in the plan", object);
  return it->second.job;
}

void Tally::reused(const std::string& object) {
  auto& e = entry(object);
  e.state = State::done;
  ++kinds_[e.job.kind].reused;
}

void Tally::started(const std::string& object, int rank, double now) {
  auto& e = entry(object);
  e.state = State::running;
  e.rank = rank;
  e.since = now;
  ranks_[rank] = RankState{object, now, now, false};
}

void Tally::done(const std::string& object, int rank, double seconds) {
  auto& e = entry(object);
  e.state = State::done;
  auto& k = kinds_[e.job.kind];
  ++k.computed;
  k.seconds += seconds;
  k.cost_done += e.job.cost;
  free_rank(rank);
}

void Tally::failed(const std::string& object, int rank, bool final, bool rank_lost) {
  auto& e = entry(object);
  e.state = final ? State::failed : State::waiting;
  if (final) ++kinds_[e.job.kind].failed;
  if (rank < 0) return;
  free_rank(rank);
  if (rank_lost) ranks_[rank].lost = true;
}

void Tally::heard(int rank, double now) {
  auto it = ranks_.find(rank);
  if (it != ranks_.end()) it->second.heard = now;
}

void Tally::free_rank(int rank) {
  auto it = ranks_.find(rank);
  if (it != ranks_.end()) it->second.object.clear();
}

std::size_t Tally::computed() const {
  std::size_t n = 0;
  for (const auto& [kind, k] : kinds_) n += k.computed;
  return n;
}

std::size_t Tally::reused_count() const {
  std::size_t n = 0;
  for (const auto& [kind, k] : kinds_) n += k.reused;
  return n;
}

std::size_t Tally::failed_count() const {
  std::size_t n = 0;
  for (const auto& [kind, k] : kinds_) n += k.failed;
  return n;
}

double Tally::jobs_per_minute(double now) const {
  return now > 0 ? static_cast<double>(computed()) * 60.0 / now : 0.0;
}

std::optional<double> Tally::estimate(const Entry& e) const {
  const auto& k = kinds_.at(e.job.kind);
  if (k.computed == 0) return std::nullopt;
  if (k.cost_done > 0 && e.job.cost > 0) return k.seconds / k.cost_done * e.job.cost;
  return k.seconds / static_cast<double>(k.computed);
}

std::optional<double> Tally::eta_seconds(double now) const {
  double work = 0;
  for (const auto& [object, e] : jobs_) {
    if (e.state != State::waiting && e.state != State::running) continue;
    const auto est = estimate(e);
    if (!est) return std::nullopt;
    work += e.state == State::running ? std::max(0.0, *est - (now - e.since)) : *est;
  }
  return work / workers_;
}

// ---- Progress ----------------------------------------------------------------------------

double Progress::now() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(); }

void Progress::run_started(const std::vector<Job>& jobs, int workers, double heartbeat_s, const std::string& where) {
  std::lock_guard<std::mutex> lock(mutex_);
  t0_ = std::chrono::steady_clock::now();
  tally_.plan(jobs, workers);
  heartbeat_s_ = heartbeat_s;
  where_ = where;
  on_run_started();
}

void Progress::job_reused(const std::string& object) {
  std::lock_guard<std::mutex> lock(mutex_);
  tally_.reused(object);
  on_job_reused(tally_.job(object));
}

void Progress::job_started(const std::string& object, int rank) {
  std::lock_guard<std::mutex> lock(mutex_);
  tally_.started(object, rank, now());
  on_job_started(tally_.job(object), rank);
}

void Progress::job_done(const std::string& object, int rank, double seconds, int inputs_held) {
  std::lock_guard<std::mutex> lock(mutex_);
  tally_.done(object, rank, seconds);
  on_job_done(tally_.job(object), rank, seconds, inputs_held);
}

void Progress::job_failed(const std::string& object, const Failure& f) {
  std::lock_guard<std::mutex> lock(mutex_);
  tally_.failed(object, f.rank, f.final, f.rank_lost);
  on_job_failed(tally_.job(object), f);
}

void Progress::heartbeat(int rank) {
  std::lock_guard<std::mutex> lock(mutex_);
  tally_.heard(rank, now());
}

void Progress::run_finished() {
  std::lock_guard<std::mutex> lock(mutex_);
  on_run_finished(now());
}

// ---- log lines ---------------------------------------------------------------------------

namespace {

std::string rank_name(int rank) { return rank > 0 ? fmt::format("rank {}", rank) : "here"; }

std::string attempt_failed(const Job& j, const Failure& f) {
  return fmt::format("{} failed on rank {} (attempt {} of {}): {}", j.label, f.rank, f.attempt, f.attempts, f.error);
}

std::string job_failed_for_good(const Tally& t, const Job& j, const Failure& f) {
  return fmt::format("[{}/{}] {} failed: {}", t.finished(), t.total(), j.label, f.error);
}

std::string run_summary(const Tally& t, double seconds, const std::string& where) {
  return fmt::format("{} jobs: {} computed, {} already in the archive, {} failed ({:.1f} s on {})", t.total(),
                     t.computed(), t.reused_count(), t.failed_count(), seconds, where);
}

std::string duration(double s) {
  const auto whole = static_cast<long>(s + 0.5);
  if (whole < 60) return fmt::format("{}s", whole);
  if (whole < 3600) return fmt::format("{}m{:02}s", whole / 60, whole % 60);
  return fmt::format("{}h{:02}m", whole / 3600, whole / 60 % 60);
}

}  // namespace

void LogLines::on_job_started(const Job& j, int rank) { log::debug("{} started ({})", j.label, rank_name(rank)); }

void LogLines::on_job_done(const Job& j, int rank, double seconds, int /*inputs_held*/) {
  log::info("[{}/{}] {} ({:.2f} s{})", tally_.finished(), tally_.total(), j.label, seconds,
            rank > 0 ? fmt::format(", rank {}", rank) : "");
}

namespace {

void warn_failed(const Tally& t, const Job& j, const Failure& f) {
  if (f.rank >= 0) log::warn("{}", attempt_failed(j, f));
  if (f.final) log::warn("{}", job_failed_for_good(t, j, f));
}

}  // namespace

void LogLines::on_job_failed(const Job& j, const Failure& f) { warn_failed(tally_, j, f); }

void LogLines::on_run_finished(double seconds) { log::info("{}", run_summary(tally_, seconds, where_)); }

// ---- JSON lines --------------------------------------------------------------------------

void JsonLines::emit(const std::string& line) { out_ << line << '\n' << std::flush; }

namespace {

nlohmann::ordered_json event(const char* name, double t) { return {{"event", name}, {"t", t}}; }

void describe(nlohmann::ordered_json& e, const Job& j) {
  e["job"] = j.object;
  e["kind"] = j.kind;
  e["label"] = j.label;
}

}  // namespace

void JsonLines::on_run_started() {
  auto e = event("run_started", now());
  nlohmann::ordered_json jobs = nlohmann::ordered_json::object();
  for (const auto& kind : tally_.kind_order()) jobs[kind] = tally_.kinds().at(kind).total;
  e["jobs"] = jobs;
  e["total"] = tally_.total();
  e["workers"] = tally_.workers();
  e["where"] = where_;
  emit(e.dump());
}

void JsonLines::on_job_reused(const Job& j) {
  auto e = event("job_reused", now());
  describe(e, j);
  e["done"] = tally_.finished();
  e["total"] = tally_.total();
  emit(e.dump());
}

void JsonLines::on_job_started(const Job& j, int rank) {
  auto e = event("job_started", now());
  describe(e, j);
  e["rank"] = rank;
  emit(e.dump());
}

void JsonLines::on_job_done(const Job& j, int rank, double seconds, int inputs_held) {
  auto e = event("job_done", now());
  describe(e, j);
  e["rank"] = rank;
  e["seconds"] = seconds;
  if (inputs_held >= 0) e["inputs_held"] = inputs_held;
  e["done"] = tally_.finished();
  e["total"] = tally_.total();
  emit(e.dump());
}

void JsonLines::on_job_failed(const Job& j, const Failure& f) {
  auto e = event("job_failed", now());
  describe(e, j);
  e["rank"] = f.rank >= 0 ? nlohmann::ordered_json(f.rank) : nlohmann::ordered_json(nullptr);
  e["error"] = f.error;
  e["attempt"] = f.attempt;
  e["attempts"] = f.attempts;
  e["final"] = f.final;
  e["rank_lost"] = f.rank_lost;
  e["done"] = tally_.finished();
  e["total"] = tally_.total();
  emit(e.dump());
  warn_failed(tally_, j, f);  // for people watching stderr
}

void JsonLines::on_run_finished(double seconds) {
  auto e = event("run_finished", now());
  e["computed"] = tally_.computed();
  e["reused"] = tally_.reused_count();
  e["failed"] = tally_.failed_count();
  e["total"] = tally_.total();
  e["seconds"] = seconds;
  emit(e.dump());
}

// ---- live display ------------------------------------------------------------------------

namespace {

std::string cut(std::string line, std::size_t width) {
  if (width > 0 && line.size() > width) line.resize(width);
  return line;
}

std::string bar(std::size_t done, std::size_t total, std::size_t cells) {
  const std::size_t filled = total ? std::min(done, total) * cells / total : cells;
  std::string b(cells + 2, '.');
  b.front() = '[';
  b.back() = ']';
  std::fill_n(b.begin() + 1, filled, '#');
  return b;
}

std::string rank_line(const Tally& t, int rank, const RankState& r, double now, double heartbeat_s) {
  const std::string name = fmt::format("  {:<8}", rank_name(rank));
  if (r.lost) return name + " lost: gets no more work";
  if (r.object.empty()) return name + " idle";
  const double silent = now - r.heard;
  // A heartbeat or two late is ordinary; longer is worth a look.
  const std::string quiet = heartbeat_s > 0 && silent > 2 * heartbeat_s
                                ? fmt::format("  [no heartbeat for {:.0f} s]", silent)
                                : "";
  return fmt::format("{} {:>7}{}  {}", name, duration(now - r.since), quiet, t.job(r.object).label);
}

constexpr std::size_t kMaxRankLines = 16;

}  // namespace

std::vector<std::string> render(const Tally& t, double now, double heartbeat_s, std::size_t width) {
  std::vector<std::string> lines;
  const auto eta = t.eta_seconds(now);
  lines.push_back(fmt::format("strata: {}/{} jobs  |  {:.1f} jobs/min  |  elapsed {}  |  ETA {}", t.finished(),
                              t.total(), t.jobs_per_minute(now), duration(now), eta ? duration(*eta) : "--"));
  for (const auto& kind : t.kind_order()) {
    const auto& k = t.kinds().at(kind);
    lines.push_back(fmt::format("  {:<9} {} {:>4}/{:<4} computed {}  reused {}  failed {}", kind,
                                bar(k.finished(), k.total, 20), k.finished(), k.total, k.computed, k.reused,
                                k.failed));
  }
  std::size_t shown = 0;
  for (const auto& [rank, r] : t.ranks()) {
    if (shown++ == kMaxRankLines) {
      lines.push_back(fmt::format("  ... and {} more ranks", t.ranks().size() - kMaxRankLines));
      break;
    }
    lines.push_back(rank_line(t, rank, r, now, heartbeat_s));
  }
  for (auto& l : lines) l = cut(std::move(l), width);
  return lines;
}

namespace {

std::size_t terminal_width(std::FILE* out) {
  winsize ws{};
  if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS"); c && std::atoi(c) > 0) return static_cast<std::size_t>(std::atoi(c));
  return 100;
}

}  // namespace

// Redraws every quarter second; waits on the display's own mutex so that events and
// redraws never interleave.
struct LiveDisplay::Ticker {
  std::condition_variable wake;
  bool stop = false;
  std::thread thread;
};

// Log lines written below the display would be drawn over: they go above it instead.
LiveDisplay::LiveDisplay(std::FILE* out) : out_(out), ticker_(std::make_unique<Ticker>()) {
  log::set_writer([this](const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex_);
    above(line);
  });
}

LiveDisplay::~LiveDisplay() {
  log::set_writer(nullptr);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ticker_->stop = true;
  }
  ticker_->wake.notify_all();
  if (ticker_->thread.joinable()) ticker_->thread.join();
}

void LiveDisplay::on_run_started() {
  showing_ = true;
  draw();
  if (ticker_->thread.joinable()) return;
  ticker_->thread = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!ticker_->wake.wait_for(lock, std::chrono::milliseconds(250), [this] { return ticker_->stop; })) draw();
  });
}

void LiveDisplay::erase() {
  if (drawn_ > 0) std::fprintf(out_, "\x1b[%zuF\x1b[J", drawn_);
  drawn_ = 0;
}

void LiveDisplay::draw() {
  auto lines = render(tally_, now(), heartbeat_s_, terminal_width(out_) - 1);
  if (drawn_ > 0 && lines == shown_) return;  // nothing changed: no flicker
  erase();
  for (const auto& l : lines) std::fprintf(out_, "%s\n", l.c_str());
  drawn_ = lines.size();
  shown_ = std::move(lines);
  std::fflush(out_);
}

void LiveDisplay::above(const std::string& line) {
  erase();
  std::fprintf(out_, "%s\n", line.c_str());
  if (showing_) draw();
  std::fflush(out_);
}

void LiveDisplay::on_job_failed(const Job& j, const Failure& f) {
  if (f.rank >= 0) above("warning: " + attempt_failed(j, f));
  if (f.final) above("warning: " + job_failed_for_good(tally_, j, f));
}

void LiveDisplay::on_run_finished(double seconds) {
  ticker_->stop = true;
  ticker_->wake.notify_all();
  draw();
  showing_ = false;
  drawn_ = 0;  // the last state stays on screen
  std::fprintf(out_, "%s\n", run_summary(tally_, seconds, where_).c_str());
  std::fflush(out_);
}

std::unique_ptr<Progress> make(Style style) {
  switch (style) {
    case Style::live: return std::make_unique<LiveDisplay>(stderr);
    case Style::json: return std::make_unique<JsonLines>(std::cout);
    case Style::log: break;
  }
  return std::make_unique<LogLines>();
}

}  // namespace strata::progress

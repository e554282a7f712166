#pragma once
// The one place a run touches its archive. For an MPI coordinator, where HDF5 is thread-safe,
// the archive's work runs on a thread of its own: the coordinator hands out the next jobs while
// results are being written, and whatever finished meanwhile is committed next, as one group
// (one journal file, one fsync, one archive open). Otherwise (a process that runs the jobs
// itself, or HDF5 without thread safety) the work runs in the caller's thread, between jobs,
// so a crash inside a job never meets a half-written file. Everything handed over runs in
// order: a read that follows a commit sees it.
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "orchestrator/archive.h"

namespace strata {

class ArchiveWriter {
 public:
  // `background`: use a thread of its own when HDF5 allows it. `group`: results queued
  // behind others join them in one commit (otherwise each is committed alone).
  ArchiveWriter(Archive& archive, bool background, bool group = true);
  ~ArchiveWriter();  // writes what is queued; an error then is only logged
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  bool background() const { return thread_.joinable(); }
  // Commits finished results: queued (background), or now. An earlier background failure is
  // thrown here.
  void commit(std::vector<Archive::Result> results);
  // Runs `f` on the archive after everything handed over before, and waits for it.
  void run(const std::function<void(Archive&)>& f);
  // The same without waiting: a failure is thrown by a later call.
  void post(std::function<void(Archive&)> f);
  // Waits until everything handed over is written; throws the first failure.
  void wait();

 private:
  struct Task {
    std::vector<Archive::Result> results;  // a commit, or
    std::function<void(Archive&)> call;     // some other work
  };
  void loop();
  void rethrow_failure();

  Archive& archive_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Task> queue_;
  bool group_ = true, busy_ = false, stopping_ = false, failure_reported_ = false;
  std::exception_ptr failure_;
  std::thread thread_;
};

}  // namespace strata

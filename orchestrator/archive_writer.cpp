#include "orchestrator/archive_writer.h"

#include <atomic>

#include "core/io/h5.h"
#include "core/util/log.h"

namespace strata {

ArchiveWriter::ArchiveWriter(Archive& archive, bool background, bool group) : archive_(archive), group_(group) {
  if (background && io::h5::library_threadsafe()) thread_ = std::thread([this] { loop(); });
}

ArchiveWriter::~ArchiveWriter() {
  if (!background()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
  if (failure_ && !failure_reported_) {
    try {
      std::rethrow_exception(failure_);
    } catch (const std::exception& e) {
      log::warn("{}: results not committed: {}", archive_.file().string(), e.what());
    }
  }
}

void ArchiveWriter::rethrow_failure() {
  if (!failure_) return;
  failure_reported_ = true;  // the caller reports it: not again at the end
  std::rethrow_exception(failure_);
}

void ArchiveWriter::commit(std::vector<Archive::Result> results) {
  if (results.empty()) return;
  if (!background()) return archive_.commit(results);
  {
    std::lock_guard lock(mutex_);
    rethrow_failure();
    // Results queued behind others join them: one commit for all.
    if (group_ && !queue_.empty() && !queue_.back().call)
      for (auto& r : results) queue_.back().results.push_back(std::move(r));
    else
      queue_.push_back({std::move(results), nullptr});
  }
  changed_.notify_all();
}

void ArchiveWriter::run(const std::function<void(Archive&)>& f) {
  if (!background()) return f(archive_);
  std::exception_ptr error;
  std::atomic<bool> done = false;
  {
    std::unique_lock lock(mutex_);
    rethrow_failure();
    queue_.push_back({{}, [&](Archive& a) {
                        try {
                          f(a);
                        } catch (...) {
                          error = std::current_exception();  // the caller's error, not the writer's
                        }
                        done = true;
                      }});
    changed_.notify_all();
    changed_.wait(lock, [&] { return done || failure_; });
    rethrow_failure();
  }
  if (error) std::rethrow_exception(error);
}

void ArchiveWriter::post(std::function<void(Archive&)> f) {
  if (!background()) return f(archive_);
  {
    std::lock_guard lock(mutex_);
    rethrow_failure();
    queue_.push_back({{}, std::move(f)});
  }
  changed_.notify_all();
}

void ArchiveWriter::wait() {
  if (!background()) return;
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return (queue_.empty() && !busy_) || failure_; });
  rethrow_failure();
}

void ArchiveWriter::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty() || failure_) return;  // stopping, with nothing (more) to write
    Task task = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    try {
      if (task.call) task.call(archive_);
      else archive_.commit(task.results);
    } catch (...) {
      lock.lock();
      failure_ = std::current_exception();
      busy_ = false;
      changed_.notify_all();
      return;
    }
    lock.lock();
    busy_ = false;
    changed_.notify_all();
  }
}

}  // namespace strata

#include "orchestrator/heartbeat.h"

#include <cstdio>
#include <exception>

namespace strata {

Heartbeat::Heartbeat(cluster::MpiComm& comm, int dest, int tag, double interval_s) {
  if (interval_s <= 0) return;
  thread_ = std::thread([this, &comm, dest, tag, interval_s] {
    loop(comm, dest, tag, std::chrono::duration<double>(interval_s));
  });
}

Heartbeat::~Heartbeat() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Heartbeat::start() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    beating_ = true;
  }
  wake_.notify_all();
}

void Heartbeat::stop() {
  if (!thread_.joinable()) return;
  std::unique_lock<std::mutex> lock(mutex_);
  beating_ = false;
  wake_.notify_all();
  wake_.wait(lock, [this] { return !sending_; });
}

void Heartbeat::loop(cluster::MpiComm& comm, int dest, int tag, std::chrono::duration<double> interval) {
  const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return beating_ || quit_; });
    if (quit_) return;
    // One beat per interval from the job's start, until it stops.
    auto next = std::chrono::steady_clock::now() + period;
    while (!wake_.wait_until(lock, next, [this] { return !beating_ || quit_; })) {
      sending_ = true;
      lock.unlock();
      bool ok = true;
      try {
        comm.send_message(dest, tag, "");
      } catch (const std::exception& e) {
        // Nothing to throw to: the coordinator will notice the silence.
        std::fprintf(stderr, "strata: rank %d: heartbeats stopped: %s\n", comm.rank(), e.what());
        ok = false;
      }
      lock.lock();
      sending_ = false;
      wake_.notify_all();
      if (!ok) {
        // No more beats, but stop() and the destructor must still find the flags they wait on.
        wake_.wait(lock, [this] { return quit_; });
        return;
      }
      next += period;
    }
    if (quit_) return;
  }
}

}  // namespace strata

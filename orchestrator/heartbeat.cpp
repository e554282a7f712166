#include "orchestrator/heartbeat.h"

#include <cstdio>
#include <exception>

namespace strata {

Heartbeat::Heartbeat(cluster::MpiComm& comm, int dest, int tag, double interval_s) {
  if (interval_s <= 0) return;
  thread_ = std::thread([this, &comm, dest, tag, interval_s] {
    beat(comm, dest, tag, std::chrono::duration<double>(interval_s));
  });
}

Heartbeat::~Heartbeat() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Heartbeat::beat(cluster::MpiComm& comm, int dest, int tag, std::chrono::duration<double> interval) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, interval, [this] { return stop_; })) {
    lock.unlock();  // the destructor may ask to stop while a beat is on its way
    try {
      comm.send_message(dest, tag, "");
    } catch (const std::exception& e) {
      // Nothing to throw to: the coordinator will notice the silence.
      std::fprintf(stderr, "strata: rank %d: heartbeats stopped: %s\n", comm.rank(), e.what());
      return;
    }
    lock.lock();
  }
}

}  // namespace strata

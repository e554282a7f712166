#pragma once
// A worker's sign of life while it runs a job: an empty message to the coordinator every
// few seconds, from a thread of its own, so that the coordinator can tell a job that takes
// long from a rank that has gone silent (a frozen process, a lost node).
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cluster/mpi_comm.h"

namespace strata {

// One thread for the worker's life, beating between start() and stop() (a Scope). Meanwhile
// the owner's thread must make no call on `comm` (it computes); calls on it thus never
// overlap, and MPI_THREAD_SERIALIZED (MpiEnvironment's default) suffices.
class Heartbeat {
 public:
  // interval_s <= 0: no beats, no thread.
  Heartbeat(cluster::MpiComm& comm, int dest, int tag, double interval_s);
  ~Heartbeat();
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  void start();
  // Returns once no beat is on its way: the owner may use `comm` again.
  void stop();

  class Scope {
   public:
    explicit Scope(Heartbeat& h) : h_(h) { h_.start(); }
    ~Scope() { h_.stop(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Heartbeat& h_;
  };

 private:
  void loop(cluster::MpiComm& comm, int dest, int tag, std::chrono::duration<double> interval);

  std::mutex mutex_;
  std::condition_variable wake_;
  bool beating_ = false, sending_ = false, quit_ = false;
  std::thread thread_;
};

}  // namespace strata

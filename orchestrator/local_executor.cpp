#include <chrono>

#include "cluster/device.h"
#include "core/util/error.h"
#include "orchestrator/executor.h"

namespace strata {

int LocalExecutor::submit(const workers::JobRequest& r, const InputLoader& load) {
  request_ = r;
  inputs_.clear();
  for (const auto& in : r.inputs) inputs_.emplace(in.object, load(in.object));
  pending_ = true;
  return 0;
}

Outcome run_here(const workers::JobRequest& r, const workers::Inputs& inputs, torch::Device device,
                 parallel::ProcessGroup* group) {
  Outcome o;
  o.object = r.object;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    o.payload = workers::execute(r, inputs, device, group);
    o.ok = true;
  } catch (const InputError& e) {
    o.input_error = true;
    o.error = e.what();
  } catch (const parallel::GroupFailure& e) {
    o.group_failure = true;
    o.error = e.what();
  } catch (const c10::Error& e) {
    o.error = e.what_without_backtrace();
  } catch (const std::exception& e) {
    o.error = e.what();
  }
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return o;
}

// Half of what is free: the group's estimate is a lower bound, and the other jobs' inputs stay.
double LocalExecutor::fuse_memory() const { return 0.5 * cluster::device_memory_bytes(device_); }

Outcome LocalExecutor::wait() {
  pending_ = false;
  Outcome o = run_here(request_, inputs_, device_);
  inputs_.clear();
  return o;
}

}  // namespace strata

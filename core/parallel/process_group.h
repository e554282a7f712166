#pragma once
// One collective interface, several backends (local, MPI, NCCL), in the manner of c10d:
// training and the coordinator speak to a ProcessGroup and never to MPI or NCCL directly.
#include <torch/torch.h>

#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "core/util/error.h"

namespace strata::parallel {

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;
  // In-place sum over all ranks; the tensor must be contiguous and on the backend's device.
  virtual void allreduce_sum(torch::Tensor& t) = 0;
  // In-place: every rank gets root's values.
  virtual void broadcast(torch::Tensor& t, int root) = 0;
  virtual void barrier() = 0;
};

// The single-process group: every collective is the identity.
class LocalGroup final : public ProcessGroup {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "local"; }
  void allreduce_sum(torch::Tensor&) override {}
  void broadcast(torch::Tensor&, int) override {}
  void barrier() override {}
};

// Thrown on a rank that stopped only because another rank of its group failed: the error
// worth reporting is the other rank's.
class GroupFailure : public RunError {
 public:
  using RunError::RunError;
};

// Collective: every rank learns whether some rank of `group` failed (`error`: this rank's
// failure, null for none), so that a rank that stops before a collective does not leave the
// others waiting in it for ever. The rank that failed rethrows its error, the others throw a
// GroupFailure. The flag is one float on `device`, the backend's device.
inline void fail_together(ProcessGroup& group, const std::exception_ptr& error, torch::Device device) {
  auto failed = torch::full({1}, error ? 1.0f : 0.0f, torch::TensorOptions().device(device));
  group.allreduce_sum(failed);
  if (error) std::rethrow_exception(error);
  const auto others = static_cast<int>(failed.item<float>());
  if (others == 1) throw GroupFailure("stopped: another rank of its data-parallel group failed");
  if (others > 1) throw GroupFailure(fmt::format("stopped: {} other ranks of its data-parallel group failed", others));
}

// Runs `fn` on this rank, then fail_together: with a group of several ranks, either every
// rank returns or every rank throws. Without one (null, or one rank) `fn` runs as it is.
template <typename Fn>
void run_together(ProcessGroup* group, torch::Device device, Fn&& fn) {
  if (group == nullptr || group->size() == 1) {
    std::forward<Fn>(fn)();
    return;
  }
  std::exception_ptr error;
  try {
    std::forward<Fn>(fn)();
  } catch (...) {
    error = std::current_exception();
  }
  fail_together(*group, error, device);
}

}  // namespace strata::parallel

#pragma once
// One collective interface, several backends (local, MPI, NCCL), in the manner of c10d:
// training and the coordinator speak to a ProcessGroup and never to MPI or NCCL directly.
#include <torch/torch.h>

#include <memory>
#include <string>

namespace strata::cluster {

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

}  // namespace strata::cluster

// NcclGroup: NCCL collectives on CUDA tensors, bootstrapped over MPI.
#include "cluster/nccl_group.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <cstring>
#include <stdexcept>

#include "core/util/error.h"

namespace strata::cluster {

namespace {

void check_nccl(ncclResult_t code, ncclComm_t comm, std::string_view what) {
  if (code == ncclSuccess) return;
  const char* detail = comm != nullptr ? ncclGetLastError(comm) : nullptr;
  fail_run("NCCL: {} failed: {}{}{}", what, ncclGetErrorString(code), detail && *detail ? ": " : "",
           detail ? detail : "");
}

void check_cuda(cudaError_t code, std::string_view what) {
  if (code != cudaSuccess) fail_run("CUDA: {} failed: {}", what, cudaGetErrorString(code));
}

ncclDataType_t nccl_type_of(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat: return ncclFloat32;
    case torch::kDouble: return ncclFloat64;
    case torch::kHalf: return ncclFloat16;
    case torch::kBFloat16: return ncclBfloat16;
    case torch::kLong: return ncclInt64;
    case torch::kInt: return ncclInt32;
    case torch::kChar: return ncclInt8;
    case torch::kByte: return ncclUint8;
    default:
      throw RunError(fmt::format("NcclGroup: dtype {} is not supported by NCCL",
                                              c10::toString(t.scalar_type())));
  }
}

}  // namespace

struct NcclGroup::Impl {
  ncclComm_t comm = nullptr;
  torch::Device device{torch::kCUDA, 0};
  int rank = 0;
  int size = 0;
  torch::Tensor barrier_flag;  // one float on the device, for barrier()

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (comm == nullptr) return;
    // Finalize waits for queued collectives; destroy then frees the communicator. A
    // destructor cannot report failures, and there is nothing left to do about one.
    c10::cuda::CUDAGuard guard(device);
    ncclCommFinalize(comm);
    ncclCommDestroy(comm);
  }

  void check_tensor(const torch::Tensor& t, const char* what) const {
    if (!t.defined()) throw RunError(fmt::format("NcclGroup::{}: undefined tensor", what));
    if (t.device() != device)
      throw RunError(fmt::format("NcclGroup::{}: tensor is on {}, the group on {}",
                                              what, t.device().str(), device.str()));
    if (!t.is_contiguous())
      throw RunError(fmt::format("NcclGroup::{}: tensor must be contiguous", what));
  }
};

NcclGroup::NcclGroup(MpiComm& comm, torch::Device device) : impl_(std::make_unique<Impl>()) {
  if (!device.is_cuda())
    throw RunError(fmt::format("NcclGroup: device {} is not a CUDA device", device.str()));
  // An unindexed "cuda" means the current device, as in torch.
  if (!device.has_index()) device = torch::Device(torch::kCUDA, c10::cuda::current_device());
  impl_->device = device;
  impl_->rank = comm.rank();
  impl_->size = comm.size();

  std::string id_bytes(sizeof(ncclUniqueId), '\0');
  if (comm.rank() == 0) {
    ncclUniqueId id;
    check_nccl(ncclGetUniqueId(&id), nullptr, "ncclGetUniqueId");
    std::memcpy(id_bytes.data(), &id, sizeof id);
  }
  comm.broadcast_bytes(id_bytes, 0);
  ncclUniqueId id;
  std::memcpy(&id, id_bytes.data(), sizeof id);

  c10::cuda::CUDAGuard guard(device);
  check_nccl(ncclCommInitRank(&impl_->comm, impl_->size, id, impl_->rank), nullptr,
             fmt::format("ncclCommInitRank(rank {} of {} on {})", impl_->rank, impl_->size, device.str()));
  impl_->barrier_flag = torch::zeros({1}, torch::TensorOptions().dtype(torch::kFloat).device(device));
}

NcclGroup::~NcclGroup() = default;

int NcclGroup::rank() const { return impl_->rank; }
int NcclGroup::size() const { return impl_->size; }
torch::Device NcclGroup::device() const { return impl_->device; }

void NcclGroup::allreduce_sum(torch::Tensor& t) {
  impl_->check_tensor(t, "allreduce_sum");
  if (t.numel() == 0) return;
  c10::cuda::CUDAGuard guard(impl_->device);
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream(impl_->device.index()).stream();
  check_nccl(ncclAllReduce(t.data_ptr(), t.data_ptr(), static_cast<std::size_t>(t.numel()),
                           nccl_type_of(t), ncclSum, impl_->comm, stream),
             impl_->comm, "ncclAllReduce");
}

void NcclGroup::broadcast(torch::Tensor& t, int root) {
  impl_->check_tensor(t, "broadcast");
  if (root < 0 || root >= impl_->size)
    throw RunError(
        fmt::format("NcclGroup::broadcast: root {} is not a rank of a group of {}", root, impl_->size));
  if (t.numel() == 0) return;
  c10::cuda::CUDAGuard guard(impl_->device);
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream(impl_->device.index()).stream();
  // Bytes: every dtype broadcasts, NCCL-supported or not.
  check_nccl(ncclBroadcast(t.data_ptr(), t.data_ptr(), t.nbytes(), ncclUint8, root, impl_->comm, stream),
             impl_->comm, "ncclBroadcast");
}

void NcclGroup::barrier() {
  allreduce_sum(impl_->barrier_flag);
  c10::cuda::CUDAGuard guard(impl_->device);
  check_cuda(cudaStreamSynchronize(c10::cuda::getCurrentCUDAStream(impl_->device.index()).stream()),
             "cudaStreamSynchronize(barrier)");
}

}  // namespace strata::cluster

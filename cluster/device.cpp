#include "cluster/device.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "core/util/host_memory.h"

#if __has_include(<c10/cuda/CUDACachingAllocator.h>) && __has_include(<ATen/cuda/CUDAContextLight.h>)
#include <ATen/cuda/CUDAContextLight.h>
#include <c10/cuda/CUDACachingAllocator.h>
#define STRATA_CUDA_ALLOCATOR 1
#endif

#include "core/util/error.h"

namespace strata::cluster {

torch::Device select_device(const std::string& choice, int local_rank, int ranks_on_node,
                            bool allow_sharing) {
  if (choice == "cpu") return torch::Device(torch::kCPU);
  const bool have_cuda = torch::cuda::is_available();
  if (choice == "cuda" && !have_cuda)
    fail_input("--device cuda: no CUDA device is visible (CUDA_VISIBLE_DEVICES='{}')",
               std::getenv("CUDA_VISIBLE_DEVICES") ? std::getenv("CUDA_VISIBLE_DEVICES") : "");
  if (choice != "cuda" && choice != "auto")
    fail_input("--device '{}': expected cpu, cuda or auto", choice);
  if (!have_cuda) return torch::Device(torch::kCPU);
  const int gpus = static_cast<int>(torch::cuda::device_count());
  if (local_rank < 0) return torch::Device(torch::kCUDA, 0);
  if (ranks_on_node > gpus && !allow_sharing)
    fail_input("{} ranks on this node but {} GPUs visible; set [cluster] share_gpus = true to allow sharing",
               ranks_on_node, gpus);
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % gpus));
}

int threads_per_worker(int workers_on_node) {
  cpu_set_t set;
  CPU_ZERO(&set);
  int cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
  if (cores <= 0) cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  return std::max(1, cores / std::max(1, workers_on_node));
}

void share_gpu(torch::Device device, int sharers) {
  if (!device.is_cuda() || sharers <= 1) return;
#ifdef STRATA_CUDA_ALLOCATOR
  (void)torch::empty({1}, torch::TensorOptions().device(device));  // the allocator exists once CUDA is in use
  c10::cuda::CUDACachingAllocator::setMemoryFraction(1.0 / sharers, device.has_index() ? device.index() : 0);
#endif
}

double device_memory_bytes(torch::Device device) {
  if (device.is_cpu()) return host_memory_bytes();
#ifdef STRATA_CUDA_ALLOCATOR
  if (device.is_cuda()) {
    const auto index = device.has_index() ? device.index() : c10::DeviceIndex{0};
    const double total = static_cast<double>(at::cuda::getDeviceProperties(index)->totalGlobalMem);
    auto* allocator = c10::cuda::CUDACachingAllocator::get();
    if (allocator == nullptr || !allocator->initialized()) return total;
    const auto stats = allocator->getDeviceStats(index);
    const auto in_use = static_cast<double>(
        stats.allocated_bytes[static_cast<std::size_t>(c10::CachingAllocator::StatType::AGGREGATE)].current);
    return std::max(0.0, total * allocator->getMemoryFraction(index) - in_use);
  }
#endif
  return 0;
}

void check_device_memory(double need, torch::Device device, const std::string& what, const std::string& advice) {
  if (device.is_cpu()) return check_host_memory(need, device_memory_bytes(device), what, advice);
  check_memory(need, device_memory_bytes(device), what, "GPU memory", device.str(), advice);
}

}  // namespace strata::cluster

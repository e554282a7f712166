#include "cluster/device.h"

#include <cstdlib>

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

}  // namespace strata::cluster

#pragma once
// Device selection: "cpu", "cuda", "auto"; on a node with several GPUs, one per local rank.
#include <torch/torch.h>

#include <string>

namespace strata::cluster {

// Resolves a --device choice. "auto" picks CUDA when present. With local_rank >= 0 the
// device index is local_rank modulo the visible GPU count (CUDA_VISIBLE_DEVICES respected
// by the CUDA runtime itself); `allow_sharing` false makes more ranks than GPUs an error.
torch::Device select_device(const std::string& choice, int local_rank = -1, int ranks_on_node = 1,
                            bool allow_sharing = false);

// Intra-op threads for one of `workers_on_node` computing processes of a node: the cores this
// process may run on (its CPU affinity) divided among them, at least one. Without it each
// worker starts one thread per core and the workers of a node slow each other down.
int threads_per_worker(int workers_on_node);

// Several workers on one GPU (share_gpus): the GPU's time is shared by the CUDA driver's time
// slicing (no MPS is assumed), and each worker's caching allocator may hold at most
// 1 / `sharers` of the GPU's memory, so that one worker's large job fails alone ("out of
// memory") instead of starving the others. No effect on the CPU or for one worker.
void share_gpu(torch::Device device, int sharers);

// What a job on `device` may allocate there, in bytes: on a GPU its memory times this process's
// share (share_gpu) less what this process holds there now; on the CPU the host's physical
// memory. 0 where it cannot be told (then nothing is refused).
double device_memory_bytes(torch::Device device);

// Refuses (InputError, with the numbers) a job whose lower bound `need` exceeds what `device`
// offers (device_memory_bytes), before it allocates: "<what> needs at least X GiB of GPU memory,
// but cuda:0 has Y GiB (<advice>)".
void check_device_memory(double need, torch::Device device, const std::string& what, const std::string& advice);

}  // namespace strata::cluster

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

}  // namespace strata::cluster

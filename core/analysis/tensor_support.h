#pragma once
// Utilities shared by the analysis functions: argument checks that name the caller, the
// float64 CPU copy the estimators work on, and seeded generators that never touch the global one.
#include <torch/torch.h>

#include <cstdint>
#include <string_view>

namespace strata::analysis::detail {

// X as a contiguous float64 CPU matrix; throws InputError naming `what` unless X is 2-D.
torch::Tensor cpu_double_matrix(const torch::Tensor& X, std::string_view what);

// Labels as a contiguous int64 CPU vector of length n whose values lie in [0, count);
// throws InputError naming `what` otherwise.
torch::Tensor cpu_labels(const torch::Tensor& labels, std::int64_t n, std::int64_t count, std::string_view what);

// A CPU generator seeded with `seed`, independent of torch's global generator.
torch::Generator seeded_generator(std::uint64_t seed);

}  // namespace strata::analysis::detail

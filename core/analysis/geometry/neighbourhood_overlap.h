#pragma once
// Neighbourhood overlap (Doimo et al. 2020, Valeriani et al. 2023; DADApy's
// MetricComparisons.return_data_overlap and return_label_overlap): how far two representations
// of the same rows share their k nearest neighbours, and how far a point's neighbours share its label.
#include <torch/torch.h>

#include <cstdint>

namespace strata::analysis::geometry {

// Per row, |N_k^A(i) ∩ N_k^B(i)| / k from two neighbour-index matrices [n, >= k] (self excluded).
torch::Tensor data_overlap(const torch::Tensor& indices_a, const torch::Tensor& indices_b, std::int64_t k);

// Per row, the fraction of its k nearest neighbours with its own label (labels: int64 [n]).
torch::Tensor label_overlap(const torch::Tensor& indices, const torch::Tensor& labels, std::int64_t k);

// The mean of per-row values with every label weighted equally (each row by 1 / its label's
// count), as DADApy's weighted=True average.
double label_balanced_mean(const torch::Tensor& values, const torch::Tensor& labels);

}  // namespace strata::analysis::geometry

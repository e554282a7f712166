#include "core/nn/layers.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>

#include <fmt/ranges.h>

#include "core/util/error.h"

#if STRATA_CUDA_KERNELS
#include "core/nn/cuda/fused_kernels.h"
#endif

namespace strata::nn {

torch::Tensor RmsNorm::operator()(const torch::Tensor& x) const {
  // In bf16/fp16 one fused kernel (fp32 inside) replaces six passes over the activations; it
  // rounds once where the reference rounds before the weight product (last-bit differences).
  if (x.scalar_type() != torch::kFloat32 && x.is_cuda()) return torch::rms_norm(x, {weight.size(0)}, weight, eps);
  const torch::Tensor h = x.to(torch::kFloat32);
  const torch::Tensor variance = h.pow(2).mean(-1, /*keepdim=*/true);
  return weight * (h * torch::rsqrt(variance + eps)).to(x.scalar_type());
}

Activation activation(const std::string& name, const std::string& where) {
  if (name == "gelu") return [](const torch::Tensor& x) { return torch::gelu(x); };
  // gelu_fast is the same tanh formula written with a folded constant.
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast")
    return [](const torch::Tensor& x) { return torch::gelu(x, "tanh"); };
  if (name == "relu") return [](const torch::Tensor& x) { return torch::relu(x); };
  if (name == "silu" || name == "swish") return [](const torch::Tensor& x) { return torch::silu(x); };
  if (name == "quick_gelu")
    return [](const torch::Tensor& x) { return x * torch::sigmoid(1.702 * x); };
  fail_input("{}: activation '{}' is not supported (known: gelu, gelu_new, gelu_pytorch_tanh, "
             "gelu_fast, relu, silu, swish, quick_gelu)", where, name);
}

// ----------------------------------------------------------------------------------------
// Rotary embeddings

namespace {

// Llama 3.x frequency scaling: long wavelengths slowed by `factor`, short ones kept, a smooth
// blend between the two bands.
torch::Tensor llama3_scaled(const torch::Tensor& inv_freq, const RopeSpec& s) {
  const double low_freq_wavelen = s.original_max_positions / s.low_freq_factor;
  const double high_freq_wavelen = s.original_max_positions / s.high_freq_factor;
  const torch::Tensor wavelen = 2 * std::numbers::pi / inv_freq;
  torch::Tensor scaled = torch::where(wavelen > low_freq_wavelen, inv_freq / s.factor, inv_freq);
  const torch::Tensor smooth =
      (s.original_max_positions / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  const torch::Tensor smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
  const torch::Tensor medium = (wavelen >= high_freq_wavelen) & (wavelen <= low_freq_wavelen);
  return torch::where(medium, smoothed, scaled);
}

}  // namespace

Rope::Rope(const RopeSpec& spec, std::int64_t head_dim, torch::Device device) {
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  // Same expression and dtype as the reference: theta ** (arange(0, d, 2) / d) in fp32.
  const torch::Tensor exponent = torch::arange(0, head_dim, 2, torch::kInt64).to(torch::kFloat32) /
                                 static_cast<double>(head_dim);
  torch::Tensor inv_freq = 1.0 / torch::pow(torch::scalar_tensor(spec.theta, f32), exponent);
  if (spec.type == "linear") inv_freq = inv_freq / spec.factor;
  if (spec.type == "llama3") inv_freq = llama3_scaled(inv_freq, spec);
  inv_freq_ = inv_freq.to(device);
}

std::pair<torch::Tensor, torch::Tensor> Rope::tables(const torch::Tensor& positions, torch::ScalarType dtype) const {
  // Integer positions are exact in fp32 (below 2^24): the same angles as the reference's arange.
  const torch::Tensor pos = positions.reshape({-1}).to(torch::kFloat32);
  const torch::Tensor freqs = torch::outer(pos, inv_freq_);
  const torch::Tensor emb = torch::cat({freqs, freqs}, -1).view({1, 1, pos.size(0), -1});
  const torch::Tensor sin = emb.sin();
  // rotate_half(x) * sin == swap_halves(x) * [-sin_a, sin_b]: the sign rides in the table.
  const std::int64_t half = sin.size(-1) / 2;
  const torch::Tensor signed_sin = torch::cat({-sin.narrow(-1, 0, half), sin.narrow(-1, half, half)}, -1);
  return {emb.cos().to(dtype), signed_sin.to(dtype)};
}

torch::Tensor Rope::apply(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& signed_sin) {
  const std::int64_t half = x.size(-1) / 2;
  std::vector<std::int64_t> pairs = x.sizes().vec();
  pairs.back() = half;
  pairs.insert(pairs.end() - 1, 2);
  const torch::Tensor swapped = x.view(pairs).flip(-2).view(x.sizes());
  return torch::addcmul(x * cos, swapped, signed_sin);
}

// ----------------------------------------------------------------------------------------
// Attention

torch::Tensor padding_mask(const torch::Tensor& mask, bool padded) {
  if (!padded) return {};
  return mask.view({mask.size(0), 1, 1, mask.size(1)});
}

torch::Tensor causal_padding_mask(const torch::Tensor& mask, bool padded) {
  if (!padded) return {};
  const std::int64_t T = mask.size(1);
  const torch::Tensor causal =
      torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(mask.device())).tril();
  return causal.view({1, 1, T, T}) & mask.view({mask.size(0), 1, 1, T});
}

namespace {

// A host tensor to the model's device: through pinned memory to CUDA, so that the copy runs
// without waiting for the device to drain.
torch::Tensor to_model_device(const torch::Tensor& t, torch::Device device) {
  if (device.is_cuda() && t.device().is_cpu()) return t.pin_memory().to(device, /*non_blocking=*/true);
  return t.to(device);
}

void check_row_length(std::int64_t length, std::int64_t max_positions, const std::string& config) {
  if (length > max_positions)
    fail_input("{}: a row of {} tokens is longer than the model's {} positions", config, length, max_positions);
}

}  // namespace

Batch prepare_batch(const torch::Tensor& ids, const torch::Tensor& mask, torch::Device device,
                    std::int64_t max_positions, const std::string& config) {
  if (ids.dim() != 2 || !ids.sizes().equals(mask.sizes()))
    fail_run("encoder input: ids {} and mask {} must both be [B, T]", ids.sizes().vec(), mask.sizes().vec());
  if (ids.size(1) == 0) fail_run("encoder input: a batch of zero-length rows");
  check_row_length(ids.size(1), max_positions, config);
  Batch b;
  const torch::Tensor m = mask.to(torch::kBool);
  b.padded = !m.all().item<bool>();
  b.ids = to_model_device(ids.to(torch::kInt64), device);
  b.mask = to_model_device(m, device);
  b.positions = torch::arange(ids.size(1), b.ids.options()).unsqueeze(0);
  return b;
}

Batch prepare_packed(const PackedRows& rows, torch::Device device, std::int64_t max_positions,
                     const std::string& config) {
  const auto& off = rows.offsets;
  if (rows.ids.dim() != 1 || off.size() < 2 || off.front() != 0 || off.back() != rows.ids.size(0))
    fail_run("encoder input: packed ids {} and offsets [{}] disagree (0 first, N last)", rows.ids.sizes().vec(),
             fmt::join(off, ", "));
  const std::int64_t N = off.back();
  // The flash kernel counts tokens in int32.
  if (N > std::numeric_limits<std::int32_t>::max()) fail_run("encoder input: {} packed tokens in one batch", N);
  Batch b;
  b.offsets = off;
  torch::Tensor positions = torch::empty({N}, torch::kInt64);
  torch::Tensor cu = torch::empty({static_cast<std::int64_t>(off.size())}, torch::kInt32);
  auto* pos = positions.data_ptr<std::int64_t>();
  auto* cu_ptr = cu.data_ptr<std::int32_t>();
  for (std::size_t r = 0; r + 1 < off.size(); ++r) {
    const std::int64_t length = off[r + 1] - off[r];
    if (length < 1) fail_run("encoder input: packed row {} has no tokens", r);
    check_row_length(length, max_positions, config);
    b.longest = std::max(b.longest, length);
    std::iota(pos + off[r], pos + off[r + 1], std::int64_t{0});
    cu_ptr[r] = static_cast<std::int32_t>(off[r]);
  }
  cu_ptr[off.size() - 1] = static_cast<std::int32_t>(N);
  b.ids = to_model_device(rows.ids.to(torch::kInt64), device).view({1, N});
  b.positions = to_model_device(positions, device).view({1, N});
  b.cu_seqlens = to_model_device(cu, device);
  return b;
}

torch::Tensor split_heads(const torch::Tensor& x, std::int64_t heads, std::int64_t head_dim) {
  return x.view({x.size(0), x.size(1), heads, head_dim}).transpose(1, 2);
}

namespace {

// [B, kv, T, d] -> [B, kv * rep, T, d], query head h reading kv head h / rep.
torch::Tensor repeat_kv(const torch::Tensor& x, std::int64_t rep) {
  if (rep == 1) return x;
  const auto B = x.size(0), kv = x.size(1), T = x.size(2), d = x.size(3);
  return x.unsqueeze(2).expand({B, kv, rep, T, d}).reshape({B, kv * rep, T, d});
}

}  // namespace

namespace {

// Whether the flash kernel's variable-length entry point runs these queries: CUDA, half
// precision (it has no fp32 kernel), a head size it is built for, an Ampere or newer device.
// The device query lives with the fused kernels, so a build without them takes the fallback.
bool flash_varlen_fits(const torch::Tensor& q, std::int64_t head_dim) {
#if STRATA_CUDA_KERNELS
  const torch::ScalarType t = q.scalar_type();
  if (!q.is_cuda() || (t != torch::kHalf && t != torch::kBFloat16)) return false;
  if (head_dim % 8 != 0 || head_dim > 256) return false;
  int capability = 0;
  const int code = cuda::compute_capability(q.device().index(), &capability);
  if (code != 0) fail_run("attention: CUDA error {} reading the device's compute capability", cuda::error_string(code));
  return capability >= 80;
#else
  (void)q;
  (void)head_dim;
  return false;
#endif
}

// A packed batch's attention, q [1, heads, N, d], k and v [1, kv_heads, N, d]: each row attends
// to its own tokens only. Returns [1, N, heads * d].
torch::Tensor packed_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const Batch& b, const AttentionShape& s) {
  const std::int64_t N = q.size(2);
  if (flash_varlen_fits(q, s.head_dim)) {
    // The kernel's layout is token-major [N, heads, d]: a view of the projections' rows. It
    // reads grouped key/value heads as they are.
    const auto tokens = [](const torch::Tensor& x) { return x.select(0, 0).transpose(0, 1); };
    const torch::Tensor out = std::get<0>(at::_flash_attention_forward(
        tokens(q), tokens(k), tokens(v), b.cu_seqlens, b.cu_seqlens, b.longest, b.longest, /*dropout_p=*/0.0,
        s.causal, /*return_debug_mask=*/false, s.scale));
    return out.reshape({1, N, s.heads * s.head_dim});
  }
  // Elsewhere (CPU, fp32, devices or builds without the kernel) each row's slice on its own:
  // the same attention over the same packed layout.
  std::vector<torch::Tensor> rows;
  rows.reserve(b.offsets.size() - 1);
  for (std::size_t r = 0; r + 1 < b.offsets.size(); ++r) {
    const std::int64_t start = b.offsets[r], length = b.offsets[r + 1] - start;
    const auto slice = [&](const torch::Tensor& x) { return x.narrow(2, start, length); };
    rows.push_back(at::scaled_dot_product_attention(slice(q), slice(k), slice(v), std::nullopt, 0.0, s.causal,
                                                    s.scale, /*enable_gqa=*/s.heads != s.kv_heads));
  }
  return torch::cat(rows, 2).transpose(1, 2).reshape({1, N, s.heads * s.head_dim});
}

}  // namespace

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const Batch& batch,
                        const torch::Tensor& mask, const AttentionShape& s) {
  if (batch.packed()) return packed_attention(q, k, v, batch, s);
  const std::int64_t rep = s.heads / s.kv_heads;
  torch::Tensor out;
  if (mask.defined()) {
    // Masked kernels take no grouped-query shortcut: spell the shared heads out.
    out = at::scaled_dot_product_attention(q, repeat_kv(k, rep), repeat_kv(v, rep), mask, 0.0,
                                           /*is_causal=*/false, s.scale);
  } else {
    out = at::scaled_dot_product_attention(q, k, v, std::nullopt, 0.0, s.causal, s.scale,
                                           /*enable_gqa=*/rep > 1);
  }
  // [B, heads, T, d] -> [B, T, heads * d]
  return out.transpose(1, 2).reshape({q.size(0), q.size(2), s.heads * s.head_dim});
}

LayerTaps::LayerTaps(const std::vector<std::int64_t>& layers, std::int64_t num_layers, const LayerSink& sink,
                     bool packed)
    : layers_(layers), sink_(sink), packed_(packed) {
  for (std::int64_t l : layers) {
    if (l < 0 || l > num_layers) fail_run("layer {} asked of a model of {} blocks", l, num_layers);
    blocks_ = std::max(blocks_, l);
  }
}

bool LayerTaps::wants(std::int64_t layer) const {
  return std::find(layers_.begin(), layers_.end(), layer) != layers_.end();
}

}  // namespace strata::nn

#pragma once
// The byte size of a contiguous tensor of `shape` whose elements take `element` bytes, or
// nothing where a size is negative or a product overflows int64 (a header or message that lies).
// Zero-length dimensions count as 1 in the overflow check: such a tensor holds no bytes, but its
// strides still multiply every other size.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace strata {

inline std::optional<std::int64_t> tensor_bytes(const std::vector<std::int64_t>& shape, std::int64_t element) {
  std::int64_t bytes = element, strided = element;
  for (const std::int64_t s : shape)
    if (s < 0 || __builtin_mul_overflow(bytes, s, &bytes) ||
        __builtin_mul_overflow(strided, std::max<std::int64_t>(s, 1), &strided))
      return std::nullopt;
  return bytes;
}

}  // namespace strata

// The .npy reader: magic, version, header dict, shape and dtype of an arbitrary file.
#include "core/io/npy.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const strata::fuzz::InputFile in(data, size, "vectors.npy");
  return strata::fuzz::refuse_or_accept([&] { (void)strata::io::read_npy(in.path()).sum(); });
}

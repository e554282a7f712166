// The safetensors header: sizes, offsets, shapes and dtypes of an arbitrary file.
#include "core/io/safetensors.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const strata::fuzz::InputFile in(data, size, "model.safetensors");
  return strata::fuzz::refuse_or_accept([&] {
    const strata::io::SafetensorsFile f(in.path());
    for (const auto& name : f.names()) (void)f.view(name).sum();
  });
}

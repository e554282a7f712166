// The sweep file: TOML parsing and the validation of every table and key.
#include <string>

#include "orchestrator/sweep.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return strata::fuzz::refuse_or_accept([&] { (void)strata::sweep::parse_sweep(text, "/fuzz/sweep.toml"); });
}

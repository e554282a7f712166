// GPU tests exit 77 (ctest: skipped) where no CUDA device is present.
#define CATCH_CONFIG_RUNNER
#include <torch/torch.h>

#include <cstdio>

#include "tests/catch.hpp"

int main(int argc, char** argv) {
  if (!torch::cuda::is_available()) {
    std::puts("no CUDA device: GPU tests skipped");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}

#pragma once
// Shared by the fuzz targets: the readers take paths, so each input is written to a file of its
// own, removed afterwards. Only InputError is an allowed outcome of a malformed input; anything
// else (another exception, a crash, a sanitizer report) is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/util/error.h"

namespace strata::fuzz {

class InputFile {
 public:
  InputFile(const std::uint8_t* data, std::size_t size, const std::string& name) {
    dir_ = std::filesystem::temp_directory_path() / ("strata-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = dir_ / name;
    std::ofstream(path_, std::ios::binary).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  ~InputFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_, path_;
};

// Runs `f`, allowing InputError (a refusal) and nothing else.
template <typename F>
int refuse_or_accept(F&& f) {
  try {
    f();
  } catch (const InputError&) {
  }
  return 0;
}

}  // namespace strata::fuzz

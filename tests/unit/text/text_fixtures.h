#pragma once
// Helpers of the text unit tests: scratch folders and small tokenizer files.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace strata::test {

// A fresh folder under STRATA_TEST_TMP (or the system temp folder).
inline std::filesystem::path text_scratch_dir(const std::string& name) {
  const char* root = std::getenv("STRATA_TEST_TMP");
  std::filesystem::path base = root ? std::filesystem::path(root) : std::filesystem::temp_directory_path();
  std::random_device rd;
  const auto dir = base / ("text-" + name + "-" + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_text_file(const std::filesystem::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary);
  out << content;
}

}  // namespace strata::test

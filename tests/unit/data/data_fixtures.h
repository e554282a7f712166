#pragma once
// Support code of the corpus reader tests: scratch folders, files written byte for byte, and
// capture of what a call writes to stderr (warnings).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace strata::test {

// Deletes a folder tree. Not std::filesystem::remove_all: libtorch.so exports its own copy of
// that function, which crashes (a null call) on a non-empty folder once it is bound first.
inline void remove_tree(const std::filesystem::path& p) {
  if (std::filesystem::is_directory(std::filesystem::symlink_status(p))) {
    std::vector<std::filesystem::path> children;
    for (const auto& e : std::filesystem::directory_iterator(p)) children.push_back(e.path());
    for (const auto& c : children) remove_tree(c);
  }
  std::error_code ec;
  std::filesystem::remove(p, ec);
}

// A fresh, empty folder for one test.
inline std::filesystem::path scratch_dir(const std::string& name) {
  const char* env = std::getenv("STRATA_TEST_TMP");
  const std::filesystem::path root =
      env && *env ? std::filesystem::path(env) : std::filesystem::temp_directory_path();
  const auto dir = root / "data-readers" / name;
  remove_tree(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

// Runs f and returns what it wrote to stderr.
inline std::string capture_stderr(const std::function<void()>& f) {
  std::fflush(stderr);
  const int saved = dup(2);
  std::FILE* tmp = std::tmpfile();
  dup2(fileno(tmp), 2);
  try {
    f();
  } catch (...) {
    std::fflush(stderr);
    dup2(saved, 2);
    close(saved);
    std::fclose(tmp);
    throw;
  }
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::rewind(tmp);
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, tmp)) > 0;) text.append(buf, n);
  std::fclose(tmp);
  return text;
}

}  // namespace strata::test

// Provenance of a snapshot's weights: a SHA-256 over its weight files.
#include <algorithm>
#include <fstream>

#include "core/io/fingerprint.h"
#include "core/io/safetensors.h"
#include "core/nn/encoder.h"
#include "core/util/error.h"
#include "core/util/hash.h"

namespace strata::nn {

std::string weights_hash(const std::filesystem::path& snapshot_dir) {
  std::vector<std::filesystem::path> files = io::safetensors_files(snapshot_dir);
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.filename() < b.filename(); });
  Sha256 h;
  std::vector<char> buf(1 << 20);
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) fail_input("{}: cannot open for reading", f.string());
    h.field(f.filename().string());
    const std::uint64_t size = std::filesystem::file_size(f);
    h.update(&size, sizeof size);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
    }
  }
  return h.hex();
}

std::string snapshot_fingerprint(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) fail_input("{}: model snapshot folder not found", dir.string());
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const auto ext = e.path().extension().string();
    if (e.is_regular_file(ec) && (ext == ".json" || ext == ".txt" || ext == ".model" || ext == ".safetensors"))
      files.push_back(e.path().filename());
  }
  if (ec) fail_input("{}: cannot list the snapshot folder: {}", dir.string(), ec.message());
  std::sort(files.begin(), files.end());
  return io::files_fingerprint(dir, files);
}

}  // namespace strata::nn

#include "core/io/fingerprint.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "core/util/error.h"
#include "core/util/hash.h"

namespace strata::io {

namespace fs = std::filesystem;

namespace {

struct Stamp {
  std::uint64_t size = 0, mtime_ns = 0, inode = 0;
  bool operator==(const Stamp&) const = default;
};

Stamp stamp_of(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) fail_input("{}: cannot read (no such file?)", file.string());
  return {static_cast<std::uint64_t>(st.st_size),
          static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(st.st_mtim.tv_nsec),
          static_cast<std::uint64_t>(st.st_ino)};
}

fs::path cache_file() {
  if (const char* d = std::getenv("STRATA_CACHE_DIR"); d && *d) return fs::path(d) / "fingerprints.tsv";
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return fs::path(d) / "strata" / "fingerprints.tsv";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "strata" / "fingerprints.tsv";
  return {};
}

// The remembered digests: "digest size mtime_ns inode path" lines; malformed lines are ignored
// (a torn last line after a crash costs one re-hash).
class DigestCache {
 public:
  static DigestCache& get() {
    static DigestCache c;
    return c;
  }
  std::string find(const fs::path& file, const Stamp& s) {
    std::lock_guard lock(mu_);
    load();
    const auto it = known_.find(file.string());
    return it != known_.end() && it->second.first == s ? it->second.second : "";
  }
  void remember(const fs::path& file, const Stamp& s, const std::string& digest) {
    std::lock_guard lock(mu_);
    known_[file.string()] = {s, digest};
    if (path_.empty()) return;
    std::error_code ec;
    fs::create_directories(path_.parent_path(), ec);
    std::ofstream out(path_, std::ios::app);
    if (out) out << digest << '\t' << s.size << '\t' << s.mtime_ns << '\t' << s.inode << '\t' << file.string() << '\n';
  }

 private:
  void load() {
    if (loaded_) return;
    loaded_ = true;
    path_ = cache_file();
    if (path_.empty()) return;
    std::ifstream in(path_);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string digest, name;
      Stamp s;
      if (!(ls >> digest >> s.size >> s.mtime_ns >> s.inode) || digest.size() != 64) continue;
      ls.get();  // the tab before the path, which may hold spaces
      std::getline(ls, name);
      if (!name.empty()) known_[name] = {s, digest};
    }
  }
  std::mutex mu_;
  bool loaded_ = false;
  fs::path path_;
  std::map<std::string, std::pair<Stamp, std::string>> known_;
};

}  // namespace

std::string file_digest(const fs::path& file_in) {
  std::error_code ec;
  const fs::path file = fs::absolute(file_in, ec).lexically_normal();
  const Stamp s = stamp_of(file);
  auto& cache = DigestCache::get();
  if (auto d = cache.find(file, s); !d.empty()) return d;
  const std::string digest = sha256_file(file);
  cache.remember(file, s, digest);
  return digest;
}

std::string path_fingerprint(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail_input("{}: no such file or folder", path.string());
  if (!fs::is_directory(path, ec)) return file_digest(path);
  std::vector<fs::path> files;
  for (fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec), end; it != end;
       it.increment(ec)) {
    if (ec) fail_input("{}: cannot list the folder: {}", path.string(), ec.message());
    if (it->is_regular_file(ec)) files.push_back(fs::relative(it->path(), path));
  }
  std::sort(files.begin(), files.end());
  return files_fingerprint(path, files);
}

std::string files_fingerprint(const fs::path& dir, const std::vector<fs::path>& files) {
  Sha256 h;
  for (const auto& f : files) {
    h.field(f.generic_string());
    h.field(file_digest(dir / f));
  }
  return h.hex();
}

}  // namespace strata::io

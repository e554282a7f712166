#pragma once
// Content fingerprints of input files, for job ids: a file replaced in place gets another id,
// a file moved elsewhere keeps its id. A file's SHA-256 is computed once and remembered by
// (path, size, modification time, inode) in a cache file, so planning a sweep over gigabytes
// of weights reads them only when they change. The cache lives in $STRATA_CACHE_DIR, else
// $XDG_CACHE_HOME/strata, else ~/.cache/strata (fingerprints.tsv); without a writable one,
// every file is hashed each time.
#include <filesystem>
#include <string>
#include <vector>

namespace strata::io {

// SHA-256 (hex) of the file's content. Throws InputError when it cannot be read.
std::string file_digest(const std::filesystem::path& file);

// A file's digest, or for a folder a digest over every regular file below it (relative name and
// digest, in name order). Throws InputError for a path that does not exist.
std::string path_fingerprint(const std::filesystem::path& path);

// A digest over the named files (name and digest each, in the order given).
std::string files_fingerprint(const std::filesystem::path& dir, const std::vector<std::filesystem::path>& files);

}  // namespace strata::io

#pragma once
// Content hashes: SHA-256 (OpenSSL) for ids of configs, corpora and weight files.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace strata {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& update(const void* data, std::size_t n);
  Sha256& update(std::string_view s) { return update(s.data(), s.size()); }
  // Adds a length prefix so that ("ab","c") and ("a","bc") hash differently.
  Sha256& field(std::string_view s);
  std::string hex();  // finalises; the object cannot be updated afterwards

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string sha256_hex(std::string_view s);
std::string sha256_file(const std::filesystem::path& p);

}  // namespace strata

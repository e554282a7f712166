// Safetensors reader: round trip, zero-copy views, sharded stores, and a clear InputError for
// every kind of damaged header.
#include <torch/torch.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/io/safetensors.h"
#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using strata::io::SafetensorsFile;
using strata::io::SafetensorsStore;

namespace {

fs::path scratch(const std::string& name) {
  const char* env = std::getenv("STRATA_TEST_TMP");
  fs::path dir = fs::path(env ? env : fs::temp_directory_path().string()) / "safetensors_test";
  fs::create_directories(dir);
  return dir / name;
}

// A file made by hand: 8-byte little-endian header size, header text, data bytes.
fs::path write_raw(const std::string& name, const std::string& header, std::size_t data_bytes,
                   std::uint64_t declared_size = 0) {
  const fs::path p = scratch(name);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  std::uint64_t n = declared_size ? declared_size : header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xFF));
  out << header;
  for (std::size_t i = 0; i < data_bytes; ++i) out.put(static_cast<char>(i & 0x7F));
  return p;
}

using strata::test::contains;
using strata::test::input_error;

}  // namespace

TEST_CASE("safetensors: a written file reads back with its dtypes, shapes and metadata") {
  const fs::path p = scratch("valid.safetensors");
  const torch::Tensor a = torch::arange(6, torch::kFloat32).view({2, 3});
  const torch::Tensor b = torch::tensor({1.5, -2.0, 3.25, 0.0}).to(torch::kBFloat16);
  const torch::Tensor c = torch::tensor({7, -9}, torch::kInt64);
  const torch::Tensor d = torch::tensor({true, false, true});
  strata::io::write_safetensors(p, {{"a", a}, {"b", b}, {"c", c}, {"flags", d}}, {{"format", "pt"}});

  torch::Tensor view;
  {
    SafetensorsFile f(p);
    CHECK(f.names() == std::vector<std::string>{"a", "b", "c", "flags"});
    CHECK(f.metadata().at("format") == "pt");
    CHECK(f.entry("b").dtype == "BF16");
    CHECK(f.entry("a").shape == std::vector<std::int64_t>{2, 3});
    CHECK(torch::equal(f.view("b"), b));
    CHECK(torch::equal(f.view("c"), c));
    CHECK(torch::equal(f.view("flags"), d));
    view = f.view("a");
  }
  // The view keeps the mapping alive after the file object is gone.
  CHECK(torch::equal(view, a));
}

TEST_CASE("safetensors: unaligned data is copied into an aligned tensor") {
  // Header of odd length: the data section starts at an odd offset.
  const std::string header = R"({"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                             R"("y":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}} )";
  const fs::path p = write_raw("unaligned.safetensors", header, 9);
  SafetensorsFile f(p);
  const torch::Tensor y = f.view("y");
  CHECK(reinterpret_cast<std::uintptr_t>(y.data_ptr()) % 4 == 0);
  CHECK(y.numel() == 2);
}

TEST_CASE("safetensors: damaged files give an InputError naming the file and the place") {
  SECTION("truncated data section") {
    const fs::path p = scratch("truncated.safetensors");
    strata::io::write_safetensors(p, {{"encoder.layer.0.weight", torch::ones({4, 4})}});
    fs::resize_file(p, fs::file_size(p) - 10);
    const std::string msg = input_error([&] { SafetensorsFile f(p); });
    INFO(msg);
    CHECK(contains(msg, p.string()));
    CHECK(contains(msg, "tensor 'encoder.layer.0.weight' spans bytes [0, 64)"));
    CHECK(contains(msg, "data section has 54 bytes (truncated file?)"));
  }
  SECTION("header size beyond the file") {
    const fs::path p = write_raw("header_beyond.safetensors", "{}", 0, 4096);
    const std::string msg = input_error([&] { SafetensorsFile f(p); });
    INFO(msg);
    CHECK(contains(msg, p.string()));
    CHECK(contains(msg, "header size 4096 runs past the end of the file (10 bytes"));
  }
  SECTION("header size above the bound") {
    const fs::path p = write_raw("header_huge.safetensors", "{}", 0, std::uint64_t{1} << 40);
    const std::string msg = input_error([&] { SafetensorsFile f(p); });
    INFO(msg);
    CHECK(contains(msg, "exceeds the 100000000-byte limit"));
  }
  SECTION("file shorter than the size field") {
    const fs::path p = scratch("tiny.safetensors");
    std::ofstream(p, std::ios::binary) << "abc";
    const std::string msg = input_error([&] { SafetensorsFile f(p); });
    INFO(msg);
    CHECK(contains(msg, "3 bytes is too short"));
  }
  SECTION("damaged headers") {
    struct Damaged {
      const char* file;
      std::string header;
      std::size_t data_bytes;
      const char* says;
    };
    const Damaged cases[] = {
        {"overlap.safetensors",
         R"({"w1":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
         R"("w2":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
         24, "tensors 'w1' [0, 16) and 'w2' [8, 24) overlap"},
        {"mismatch.safetensors", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8,
         "tensor 'w' is F32 of shape [3] (12 bytes) but its data_offsets [0, 8) span 8 bytes"},
        {"dtype.safetensors", R"({"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", 2,
         "tensor 'w' has dtype 'F8_E4M3', which is not supported"},
        {"garbage.safetensors", "{\"w\": [1, 2,,", 0, "header is not valid JSON"},
        {"negative.safetensors", R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4,
         "expected non-negative integers"},
    };
    for (const auto& c : cases) {
      const fs::path p = write_raw(c.file, c.header, c.data_bytes);
      const std::string msg = input_error([&] { SafetensorsFile f(p); });
      INFO(c.file << ": " << msg);
      CHECK(contains(msg, p.string()));
      CHECK(contains(msg, c.says));
    }
  }
}

TEST_CASE("safetensors: spans may come in any order; metadata is allowed") {
  const std::string header = R"({"__metadata__":{"format":"pt"},)"
                             R"("late":{"dtype":"I32","shape":[1],"data_offsets":[4,8]},)"
                             R"("early":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},)"
                             R"("empty":{"dtype":"F16","shape":[0,3],"data_offsets":[8,8]}})";
  const fs::path p = write_raw("unsorted.safetensors", header, 8);
  SafetensorsFile f(p);
  CHECK(f.names().size() == 3);
  CHECK(f.view("empty").sizes() == torch::IntArrayRef({0, 3}));
}

TEST_CASE("safetensors: a sharded folder loads through its index") {
  const fs::path dir = scratch("sharded_model");
  fs::create_directories(dir);
  strata::io::write_safetensors(dir / "model-00001-of-00002.safetensors", {{"a", torch::ones({2})}});
  strata::io::write_safetensors(dir / "model-00002-of-00002.safetensors", {{"b", torch::full({3}, 2.0)}});
  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}})";
  SafetensorsStore store(dir);
  CHECK(store.names() == std::vector<std::string>{"a", "b"});
  CHECK(store.files().size() == 2);
  const torch::Tensor b = store.load("b", torch::kFloat16, torch::kCPU);
  CHECK(b.scalar_type() == torch::kFloat16);
  CHECK(torch::equal(b, torch::full({3}, 2.0, torch::kFloat16)));

  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"weight_map":{"a":"model-00002-of-00002.safetensors"}})";
  const std::string msg = input_error([&] { SafetensorsStore s(dir); });
  INFO(msg);
  CHECK(contains(msg, "weight_map puts 'a' in"));
  CHECK(contains(msg, "which does not hold it"));
}

TEST_CASE("safetensors: a folder without weights says what it looked for") {
  const fs::path dir = scratch("no_weights");
  fs::create_directories(dir);
  const std::string msg = input_error([&] { SafetensorsStore s(dir); });
  CHECK(contains(msg, "neither model.safetensors nor model.safetensors.index.json"));
}

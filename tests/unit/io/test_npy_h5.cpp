#include <torch/torch.h>

#include <sys/resource.h>

#include <csignal>

#include <filesystem>
#include <fstream>

#include "core/io/h5.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using namespace strata;

namespace {
fs::path tmpdir(const std::string& name) { return test::scratch_dir("io-" + name); }
}  // namespace

TEST_CASE("npy round trip for the supported dtypes", "[npy]") {
  const auto d = tmpdir("npy");
  for (auto dt : {torch::kFloat32, torch::kFloat16, torch::kFloat64, torch::kInt64}) {
    auto t = (torch::arange(12, torch::kFloat64) * 0.5).reshape({3, 4}).to(dt);
    io::write_npy(d / "a.npy", t);
    auto r = io::read_npy(d / "a.npy");
    CHECK(r.scalar_type() == dt);
    CHECK(r.sizes() == t.sizes());
    CHECK(torch::equal(r, t));
  }
  auto v = torch::arange(5, torch::kInt64);
  io::write_npy(d / "v.npy", v);
  CHECK(torch::equal(io::read_npy(d / "v.npy"), v));
}

TEST_CASE("npy files that lie about their size or type are refused", "[npy]") {
  const auto d = tmpdir("npy-bad");
  io::write_npy(d / "a.npy", torch::zeros({10, 4}));
  // Truncate the data.
  fs::resize_file(d / "a.npy", fs::file_size(d / "a.npy") - 8);
  CHECK_THROWS_AS(io::read_npy(d / "a.npy"), InputError);
  try {
    io::read_npy(d / "a.npy");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("a.npy") != std::string::npos);
    CHECK(std::string(e.what()).find("160 bytes") != std::string::npos);
  }
  std::ofstream(d / "junk.npy") << "hello";
  CHECK_THROWS_AS(io::read_npy(d / "junk.npy"), InputError);
  CHECK_THROWS_AS(io::read_npy(d / "missing.npy"), InputError);
}

TEST_CASE("h5 groups, datasets, strings and attributes round trip", "[h5]") {
  const auto d = tmpdir("h5");
  {
    io::h5::File f(d / "a.h5", io::h5::File::Mode::create_truncate);
    auto g = f.root().require("runs/r1");
    g.write("x", torch::arange(6, torch::kFloat32).reshape({2, 3}));
    g.write("half", torch::ones({4}, torch::kFloat16));
    g.write_strings("names", {"a", "Ünïcødé", ""});
    g.set_attr("status", std::string("done"));
    g.set_attr("n", std::int64_t{42});
    g.set_attr("list", std::vector<std::string>{"p", "q"});
    g.soft_link("alias", "/runs/r1/x");
  }
  io::h5::File f(d / "a.h5", io::h5::File::Mode::read);
  auto g = f.root().open("runs/r1");
  CHECK(torch::equal(g.read("x"), torch::arange(6, torch::kFloat32).reshape({2, 3})));
  CHECK(g.read("half").scalar_type() == torch::kFloat16);
  CHECK(g.read_strings("names") == std::vector<std::string>{"a", "Ünïcødé", ""});
  CHECK(g.attr_string("status") == "done");
  CHECK(g.attr_int("n") == 42);
  CHECK(g.attr_strings("list") == std::vector<std::string>{"p", "q"});
  CHECK(torch::equal(g.read("alias"), g.read("x")));
  CHECK(f.root().exists("runs/r1/x"));
  CHECK_FALSE(f.root().exists("runs/r2/x"));
  CHECK_THROWS_AS(f.root().open("nope"), InputError);
}

TEST_CASE("a damaged HDF5 file is reported, not crashed on", "[h5]") {
  const auto d = tmpdir("h5-bad");
  std::ofstream(d / "junk.h5") << "not hdf5";
  CHECK_FALSE(io::h5::is_readable(d / "junk.h5"));
  CHECK_THROWS_AS(io::h5::File(d / "junk.h5", io::h5::File::Mode::read), InputError);
}

TEST_CASE("ensure_room refuses a file that cannot grow, and leaves it as it was", "[h5]") {
  const auto d = tmpdir("room");
  const fs::path f = d / "a.bin";
  { std::ofstream(f) << std::string(1000, 'x'); }
  // A process whose files may not pass 64 KiB sees what a writer on a full disk sees.
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
  rlimit low = old;
  low.rlim_cur = 64 * 1024;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &low) == 0);
  std::string refused;
  try {
    io::h5::ensure_room(f, 1 << 20);
  } catch (const StorageError& e) {
    refused = e.reason();
  }
  const bool small_ok = [&] {
    try {
      io::h5::ensure_room(f, 1000);
      io::h5::ensure_room(d / "new.bin", 1000);
      return true;
    } catch (const StorageError&) {
      return false;
    }
  }();
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  CHECK(refused == "File too large");
  CHECK(small_ok);
  CHECK(fs::file_size(f) == 1000);
  CHECK_FALSE(fs::exists(d / "new.bin"));
}

namespace {
// A version-1 .npy file with this shape and `data_bytes` zero bytes of float32 data.
fs::path npy_with_shape(const fs::path& dir, const std::string& shape, std::size_t data_bytes) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  header.append(63 - (10 + header.size()) % 64, ' ').push_back('\n');
  const fs::path p = dir / "shape.npy";
  std::ofstream out(p, std::ios::binary);
  out << "\x93NUMPY\x01" << '\0' << static_cast<char>(header.size() & 0xff) << static_cast<char>(header.size() >> 8)
      << header << std::string(data_bytes, '\0');
  return p;
}
}  // namespace

TEST_CASE("npy shapes that are not tuples of sizes are refused, whatever their byte count", "[npy]") {
  const auto d = tmpdir("npy-shape");
  CHECK(io::read_npy(npy_with_shape(d, "(2, 3)", 24)).sizes() == torch::IntArrayRef({2, 3}));
  CHECK(io::read_npy(npy_with_shape(d, "(2,)", 8)).sizes() == torch::IntArrayRef({2}));
  CHECK(io::read_npy(npy_with_shape(d, "(0, 5)", 0)).sizes() == torch::IntArrayRef({0, 5}));
  for (const std::string bad : {"(8,,3)", "(,)", "(3 4)", "( )", "(2, -3)"})
    CHECK_THROWS_WITH(io::read_npy(npy_with_shape(d, bad, 24)), test::HasSubstring("shape.npy: npy shape"));
  CHECK_THROWS_WITH(io::read_npy(npy_with_shape(d, "(2, 3", 24)), test::HasSubstring("'shape' is malformed"));
  // Zero elements, but strides that overflow: refused before the tensor is made.
  CHECK_THROWS_WITH(io::read_npy(npy_with_shape(d, "(0, 1099511627776, 1099511627776)", 0)), test::HasSubstring("too large"));
  std::string many = "(";
  for (int i = 0; i < 33; ++i) many += "1,";
  CHECK_THROWS_WITH(io::read_npy(npy_with_shape(d, many + ")", 4)), test::HasSubstring("more than 32 dimensions"));
}

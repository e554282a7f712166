// Files are read in a child first: one HDF5 crashes on (a fuzzer-found archive whose string
// heap is corrupt) is named with the signal, and the files after it are still checked.
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "core/io/h5.h"
#include "core/io/h5_probe.h"
#include "tests/catch.hpp"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using namespace strata;

namespace {
const fs::path kCrasher = fs::path(STRATA_TEST_SOURCE_DIR) / "tests/fuzz/corpus/archive/regression-hdf5-global-heap";

fs::path good_file(const fs::path& dir) {
  const fs::path p = dir / "good.h5";
  io::h5::File f(p, io::h5::File::Mode::create_truncate);
  auto root = f.root();
  root.set_attr("program", std::string("strata"));
  root.set_attr("names", std::vector<std::string>{"a", "bb"});
  auto g = root.require("runs/r1");
  g.write("data", torch::arange(12, torch::kFloat32).reshape({3, 4}), 2);
  g.write_strings("text", {"one", "two", std::string(3000, 'x')});
  g.set_attr("loss", 0.5);
  root.soft_link("latest", "/runs/r1");
  root.soft_link("dangling", "/nowhere");
  f.close();
  return p;
}
}  // namespace

TEST_CASE("h5 probe: safe files pass, a file HDF5 crashes on is named, the next still checked", "[h5]") {
  const auto d = test::scratch_dir("io-h5-probe");
  const fs::path good = good_file(d);
  CHECK_NOTHROW(io::h5::read_everything(good));
  { std::ofstream(d / "notes.h5") << "chapter 3"; }  // not HDF5: an error, met safely in this process
  REQUIRE(fs::exists(kCrasher));
  const auto v = io::h5::unsafe_to_read({good, kCrasher, d / "notes.h5", good});
  REQUIRE(v.size() == 4);
  CHECK(v[0].empty());
  CHECK_THAT(v[1], test::HasSubstring("HDF5 crashed reading it"));
  CHECK(v[2].empty());
  CHECK(v[3].empty());
  CHECK(io::h5::unsafe_to_read({}).empty());
}

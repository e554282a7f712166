#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "core/util/error.h"
#include "orchestrator/archive.h"
#include "tests/catch.hpp"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using namespace strata;

namespace {
fs::path tmpdir(const std::string& name) { return test::scratch_dir("archive-" + name); }

void put(Archive& a, const std::string& object, const std::string& id, float v) {
  a.commit(object, id, {{"v", v}}, [&](io::h5::Group& g) { g.write("data", torch::full({3}, v)); });
}
}  // namespace

TEST_CASE("committed results are done, and conflicts are refused", "[archive]") {
  const auto d = tmpdir("commit");
  Archive a(d / "a.h5", false, "sweep");
  CHECK_FALSE(a.done("/runs/r1", "id1"));
  put(a, "/runs/r1", "id1", 1.f);
  CHECK(a.done("/runs/r1", "id1"));
  CHECK_FALSE(a.done("/runs/r1", "id2"));
  CHECK_NOTHROW(a.check_no_conflict("/runs/r1", "id1", "a run"));
  CHECK_THROWS_AS(a.check_no_conflict("/runs/r1", "other", "a run"), InputError);
}

TEST_CASE("an existing archive needs --resume, and a second writer is locked out", "[archive]") {
  const auto d = tmpdir("lock");
  {
    Archive a(d / "a.h5", false, "sweep");
    try {
      Archive b(d / "a.h5", true, "sweep");
      FAIL("second writer was let in");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find("pid") != std::string::npos);
    }
  }
  CHECK_THROWS_AS(Archive(d / "a.h5", false, "sweep"), InputError);
  CHECK_NOTHROW(Archive(d / "a.h5", true, "sweep"));
}

TEST_CASE("a damaged archive is rebuilt from its journal with nothing lost", "[archive]") {
  const auto d = tmpdir("rebuild");
  {
    Archive a(d / "a.h5", false, "sweep");
    put(a, "/runs/r1", "id1", 1.f);
    put(a, "/runs/r2", "id2", 2.f);
  }
  // A writer killed mid-write can leave anything: here, the file cut in half.
  fs::resize_file(d / "a.h5", fs::file_size(d / "a.h5") / 2);
  Archive a(d / "a.h5", true, "sweep");
  CHECK(a.done("/runs/r1", "id1"));
  CHECK(a.done("/runs/r2", "id2"));
  io::h5::File f(d / "a.h5", io::h5::File::Mode::read);
  CHECK(torch::equal(f.root().read("runs/r2/data"), torch::full({3}, 2.f)));
}

TEST_CASE("a journal entry missing from the archive is merged on open", "[archive]") {
  const auto d = tmpdir("merge");
  {
    Archive a(d / "a.h5", false, "sweep");
    put(a, "/runs/r1", "id1", 1.f);
  }
  {  // simulate a crash between the journal rename and the merge: drop the object
    io::h5::File f(d / "a.h5", io::h5::File::Mode::read_write);
    auto root = f.root();
    root.remove("runs/r1");
  }
  Archive a(d / "a.h5", true, "sweep");
  CHECK(a.done("/runs/r1", "id1"));
}

TEST_CASE("results committed together make one journal entry and come back whole", "[archive]") {
  const auto d = tmpdir("group");
  auto data = [](float v) { return [v](io::h5::Group& g) { g.write("data", torch::full({3}, v)); }; };
  {
    Archive a(d / "a.h5", false, "sweep");
    std::vector<Archive::Result> group;
    group.push_back({"/trained/t1", "id1", {{"v", 1}}, data(1.f), {}});
    group.push_back({"/runs/r1", "id2", {{"v", 2}}, data(2.f), {{"trained", "/trained/t1"}}});
    a.commit(group);
    a.commit(std::vector<Archive::Result>{});  // nothing: no entry
    CHECK(a.done("/trained/t1", "id1"));
    CHECK(a.done("/runs/r1", "id2"));
    const auto r = a.open_result("/runs/r1");
    CHECK(torch::equal(r.root().read("runs/r1/data"), torch::full({3}, 2.f)));
  }
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(d / "a.h5.journal")) entries += e.path().extension() == ".h5";
  CHECK(entries == 1);
  // Rebuilt from that one entry: both objects, with the link.
  fs::resize_file(d / "a.h5", fs::file_size(d / "a.h5") / 2);
  Archive a(d / "a.h5", true, "sweep");
  CHECK(a.done("/trained/t1", "id1"));
  CHECK(a.done("/runs/r1", "id2"));
  io::h5::File f(d / "a.h5", io::h5::File::Mode::read);
  CHECK(torch::equal(f.root().read("runs/r1/trained/data"), torch::full({3}, 1.f)));
}

TEST_CASE("a result committed again is read from its newest journal entry", "[archive]") {
  const auto d = tmpdir("again");
  {
    Archive a(d / "a.h5", false, "sweep");
    put(a, "/runs/r1", "old", 1.f);
    put(a, "/runs/r1", "new", 2.f);
  }
  fs::remove(d / "a.h5");  // rebuilt from the journal alone
  Archive a(d / "a.h5", true, "sweep");
  CHECK(a.done("/runs/r1", "new"));
  CHECK_FALSE(a.done("/runs/r1", "old"));
}

TEST_CASE("many jobs are checked with one open, and a conflict names the object", "[archive]") {
  const auto d = tmpdir("check");
  Archive a(d / "a.h5", false, "sweep");
  put(a, "/runs/r1", "id1", 1.f);
  const auto done = a.check_done({{"/runs/r1", "id1", "a run"}, {"/runs/r2", "id2", "a run"}});
  CHECK(done == std::vector<bool>{true, false});
  // An intermediate object (no `what`) from another configuration is not a conflict.
  CHECK(a.check_done({{"/runs/r1", "other", ""}}) == std::vector<bool>{false});
  try {
    a.check_done({{"/runs/r1", "other", "a run"}});
    FAIL("conflict not refused");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("/runs/r1") != std::string::npos);
  }
}

TEST_CASE("a group of many results with many links is one journal entry", "[archive]") {
  // Its lists outgrow the 64 KiB an HDF5 attribute may hold.
  const auto d = tmpdir("big-group");
  std::vector<Archive::Result> group;
  const std::string target(80, 't');
  for (int i = 0; i < 200; ++i) {
    std::map<std::string, std::string> links;
    for (int k = 0; k < 6; ++k) links["link" + std::to_string(k)] = "/trained/" + target + std::to_string(k);
    group.push_back({"/runs/r" + std::to_string(i), "id" + std::to_string(i), {{"i", i}},
                     [i](io::h5::Group& g) { g.set_attr("i", static_cast<std::int64_t>(i)); }, links});
  }
  {
    Archive a(d / "a.h5", false, "sweep");
    a.commit(group);
  }
  fs::remove(d / "a.h5");
  Archive a(d / "a.h5", true, "sweep");
  CHECK(a.done("/runs/r0", "id0"));
  CHECK(a.done("/runs/r199", "id199"));
  io::h5::File f(d / "a.h5", io::h5::File::Mode::read);
  CHECK(f.root().open("runs/r199").attr_int("i") == 199);
}

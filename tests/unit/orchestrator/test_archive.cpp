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

// What a writer killed mid-write can leave: here, the file cut in half.
void cut_in_half(const fs::path& file) { fs::resize_file(file, fs::file_size(file) / 2); }

torch::Tensor read_back(const fs::path& file, const std::string& name) {
  io::h5::File f(file, io::h5::File::Mode::read);
  return f.root().read(name);
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
    put(a, "/runs/r1", "id1", 1.f);
    try {
      Archive b(d / "a.h5", true, "sweep");
      FAIL("second writer was let in");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find("pid") != std::string::npos);
    }
  }
  CHECK_FALSE(fs::exists(d / "a.h5.lock"));  // let go of, and removed
  CHECK_THROWS_AS(Archive(d / "a.h5", false, "sweep"), InputError);
  CHECK_NOTHROW(Archive(d / "a.h5", true, "sweep"));
}

namespace {
std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST_CASE("nothing is written before the first write: a refused run changes nothing", "[archive]") {
  const auto d = tmpdir("refused");
  {
    Archive fresh(d / "new.h5", false, "sweep");
    CHECK_FALSE(fresh.done("/runs/r1", "id1"));
  }
  CHECK(fs::is_empty(d));  // neither archive, journal nor lock
  {
    Archive a(d / "a.h5", false, "first");
    put(a, "/corpus", "corpus-1", 1.f);
  }
  const std::string before = bytes_of(d / "a.h5");
  {
    Archive b(d / "a.h5", true, "second");
    CHECK_THROWS_AS(b.check_no_conflict("/corpus", "corpus-2", "a corpus"), InputError);
  }
  CHECK(bytes_of(d / "a.h5") == before);
  {
    Archive c(d / "a.h5", true, "third");
    c.start();  // the run goes ahead: its sweep is recorded
  }
  io::h5::File f(d / "a.h5", io::h5::File::Mode::read);
  CHECK(f.root().attr_strings("sweep_history") == std::vector<std::string>{"first", "third"});
  CHECK(f.root().attr_string("sweep_toml") == "third");
}

TEST_CASE("only strata's archives are written into", "[archive]") {
  const auto d = tmpdir("foreign");
  {  // someone else's HDF5 file
    io::h5::File f(d / "foreign.h5", io::h5::File::Mode::create_truncate);
    f.root().write("x", torch::ones({2}));
  }
  const std::string foreign = bytes_of(d / "foreign.h5");
  CHECK_THAT(test::input_error([&] { Archive(d / "foreign.h5", true, "s"); }), test::HasSubstring("not a strata archive"));
  CHECK(bytes_of(d / "foreign.h5") == foreign);
  // A file that is not HDF5 at all, and no journal to rebuild it from.
  { std::ofstream(d / "notes.h5") << "chapter 3"; }
  CHECK_THAT(test::input_error([&] { Archive(d / "notes.h5", true, "s"); }),
             test::HasSubstring("refusing to overwrite"));
  CHECK(bytes_of(d / "notes.h5") == "chapter 3");
  CHECK_FALSE(fs::exists(d / "notes.h5.journal"));
  // A journal that is a file; an archive that is a folder.
  { std::ofstream(d / "j.h5.journal") << "x"; }
  CHECK_THAT(test::input_error([&] { Archive(d / "j.h5", false, "s"); }), test::HasSubstring("not a folder"));
  fs::create_directory(d / "dir.h5");
  CHECK_THAT(test::input_error([&] { Archive(d / "dir.h5", true, "s"); }), test::HasSubstring("a folder"));
}

TEST_CASE("a damaged journal entry is set aside and the others still count", "[archive]") {
  const auto d = tmpdir("damaged");
  {
    Archive a(d / "a.h5", false, "sweep");
    put(a, "/runs/r1", "id1", 1.f);
    put(a, "/runs/r2", "id2", 2.f);
  }
  const fs::path second = d / "a.h5.journal" / "00000002.h5";
  cut_in_half(second);
  { std::ofstream(d / "a.h5.journal" / "00000003.h5.tmp") << "left by a crash"; }
  fs::remove(d / "a.h5");  // rebuilt from what the journal still holds
  Archive a(d / "a.h5", true, "sweep");
  a.start();
  CHECK(a.done("/runs/r1", "id1"));
  CHECK_FALSE(a.done("/runs/r2", "id2"));  // computed again
  CHECK(fs::exists(second.string() + ".damaged"));
  CHECK_FALSE(fs::exists(second));
  CHECK_FALSE(fs::exists(d / "a.h5.journal" / "00000003.h5.tmp"));
  put(a, "/runs/r2", "id2", 2.f);
  CHECK(a.done("/runs/r2", "id2"));
}

TEST_CASE("a damaged archive is rebuilt from its journal with nothing lost", "[archive]") {
  const auto d = tmpdir("rebuild");
  {
    Archive a(d / "a.h5", false, "sweep");
    put(a, "/runs/r1", "id1", 1.f);
    put(a, "/runs/r2", "id2", 2.f);
  }
  cut_in_half(d / "a.h5");
  Archive a(d / "a.h5", true, "sweep");
  CHECK(a.done("/runs/r1", "id1"));  // from the journal, before anything is written
  CHECK(a.done("/runs/r2", "id2"));
  a.start();
  CHECK(torch::equal(read_back(d / "a.h5", "runs/r2/data"), torch::full({3}, 2.f)));
}

TEST_CASE("an archive or journal entry HDF5 would crash on is never opened here", "[archive]") {
  const fs::path crasher = fs::path(STRATA_TEST_SOURCE_DIR) / "tests/fuzz/corpus/archive/regression-hdf5-global-heap";
  const auto d = tmpdir("crasher");
  fs::copy_file(crasher, d / "lone.h5");
  CHECK_THAT(test::input_error([&] { Archive(d / "lone.h5", true, "s"); }), test::HasSubstring("damaged: HDF5 crashed"));
  CHECK(bytes_of(d / "lone.h5") == bytes_of(crasher));
  {
    Archive a(d / "a.h5", false, "sweep");
    put(a, "/runs/r1", "id1", 1.f);
    put(a, "/runs/r2", "id2", 2.f);
  }
  // The archive replaced by the crasher: rebuilt from the journal. A crasher as the second
  // entry: set aside, its result computed again.
  fs::copy_file(crasher, d / "a.h5", fs::copy_options::overwrite_existing);
  fs::copy_file(crasher, d / "a.h5.journal" / "00000002.h5", fs::copy_options::overwrite_existing);
  Archive a(d / "a.h5", true, "sweep");
  a.start();
  CHECK(a.done("/runs/r1", "id1"));
  CHECK_FALSE(a.done("/runs/r2", "id2"));
  CHECK(fs::exists(d / "a.h5.journal" / "00000002.h5.damaged"));
  CHECK(torch::equal(read_back(d / "a.h5", "runs/r1/data"), torch::full({3}, 1.f)));
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
  cut_in_half(d / "a.h5");
  Archive a(d / "a.h5", true, "sweep");
  a.start();
  CHECK(a.done("/trained/t1", "id1"));
  CHECK(a.done("/runs/r1", "id2"));
  CHECK(torch::equal(read_back(d / "a.h5", "runs/r1/trained/data"), torch::full({3}, 1.f)));
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
  a.start();
  CHECK(a.done("/runs/r0", "id0"));
  CHECK(a.done("/runs/r199", "id199"));
  io::h5::File f(d / "a.h5", io::h5::File::Mode::read);
  CHECK(f.root().open("runs/r199").attr_int("i") == 199);
}

#include <torch/torch.h>

#include <filesystem>

#include "core/io/h5.h"
#include "core/util/error.h"
#include "orchestrator/archive_writer.h"
#include "tests/catch.hpp"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using namespace strata;

namespace {
fs::path fresh(const std::string& name) { return test::scratch_dir("writer-" + name); }

Archive::Result result(const std::string& object, float v) {
  return {object, "id-" + object, {{"v", v}}, [v](io::h5::Group& g) { g.write("data", torch::full({2}, v)); }, {}};
}

std::size_t journal_entries(const fs::path& archive) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(archive.string() + ".journal")) n += e.path().extension() == ".h5";
  return n;
}
}  // namespace

TEST_CASE("the archive writer commits in order and a read sees every earlier commit", "[archive]") {
  for (const bool background : {false, true}) {
    const auto d = fresh(background ? "bg" : "fg");
    Archive archive(d / "a.h5", false, "sweep");
    {
      ArchiveWriter w(archive, background);
      if (!io::h5::library_threadsafe()) CHECK_FALSE(w.background());
      for (int i = 0; i < 20; ++i) w.commit({result("/runs/r" + std::to_string(i), static_cast<float>(i))});
      bool all = false;
      w.run([&](Archive& a) {
        all = true;
        for (int i = 0; i < 20; ++i) all = all && a.done("/runs/r" + std::to_string(i), "id-/runs/r" + std::to_string(i));
      });
      CHECK(all);
      w.wait();
    }
    // In the caller's thread every commit is its own entry; a writer thread groups what queued up.
    if (!background) CHECK(journal_entries(d / "a.h5") == 20);
    else CHECK(journal_entries(d / "a.h5") <= 20);
    io::h5::File f(d / "a.h5", io::h5::File::Mode::read);
    CHECK(torch::equal(f.root().read("runs/r19/data"), torch::full({2}, 19.f)));
  }
}

TEST_CASE("the archive writer hands failures back to the caller", "[archive]") {
  const auto d = fresh("fail");
  Archive archive(d / "a.h5", false, "sweep");
  ArchiveWriter w(archive, true);
  // An error of the caller's own work comes back from run() and leaves the writer working.
  CHECK_THROWS_AS(w.run([](Archive&) { fail_input("not this"); }), InputError);
  w.commit({result("/runs/ok", 1.f)});
  w.wait();
  // A commit that fails is thrown by a later call.
  w.commit({{"/runs/bad", "id", {}, [](io::h5::Group&) { fail_run("disk full"); }, {}}});
  try {
    w.wait();
    FAIL("the failed commit was not reported");
  } catch (const RunError& e) {
    CHECK(std::string(e.what()).find("disk full") != std::string::npos);
  }
  CHECK_THROWS(w.commit({result("/runs/later", 2.f)}));
}

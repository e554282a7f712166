// Opening an archive and its journal as `strata run --resume` does: the input's part before the
// first "\n@@journal@@\n" is the archive file, the rest one journal entry (either may be empty:
// absent). Files HDF5 would crash on are to be caught in a child first (core/io/h5_probe.h), so
// a crash here is strata's finding, not only HDF5's.
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "core/io/h5.h"
#include "orchestrator/archive.h"
#include "tests/fuzz/fuzz_input.h"
#include "workers/payload.h"

namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, std::string_view bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Brought in line with its journal (damaged entries set aside, results merged, or the archive
// rebuilt), then everything in the archive is read back as payloads.
void open_and_read(const fs::path& file) {
  {
    strata::Archive archive(file, /*resume=*/true, "");
    (void)archive.done("/corpus", "0");
    archive.start();
  }
  if (!strata::io::h5::is_readable(file)) return;
  const strata::io::h5::File f(file, strata::io::h5::File::Mode::read);
  (void)strata::workers::Payload::read(f.root());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view separator = "\n@@journal@@\n";
  const auto cut = input.find(separator);
  const auto archive_bytes = input.substr(0, cut);
  const auto entry_bytes = cut == std::string_view::npos ? std::string_view() : input.substr(cut + separator.size());
  const strata::fuzz::InputFile marker(data, 0, "marker");  // the input's own folder
  const fs::path dir = marker.dir() / "archive";
  std::error_code ec;
  fs::remove_all(dir, ec);
  const fs::path file = dir / "sweep.h5";
  if (!archive_bytes.empty()) write(file, archive_bytes);
  if (!entry_bytes.empty()) write(dir / "sweep.h5.journal" / "00000001.h5", entry_bytes);
  fs::create_directories(dir);
  // HDF5's own errors on a damaged file are RunErrors: allowed, if they name the file.
  strata::fuzz::refuse_or_accept([&] {
    try {
      open_and_read(file);
    } catch (const strata::RunError& e) {
      if (std::string_view(e.what()).find(dir.string()) == std::string_view::npos) __builtin_trap();
    }
  });
  fs::remove_all(dir, ec);
  return 0;
}

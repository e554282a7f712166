#pragma once
// The HTML report of an archive, written by results/report.py (matplotlib + h5py).
#include <filesystem>

namespace strata {

// Writes DIR/index.html (default: ARCHIVE with ".report" in place of ".h5"). Returns the
// script's exit code; a missing Python or plotting library is reported, not fatal to a run.
int write_report(const std::filesystem::path& archive, const std::filesystem::path& out_dir = {});

}  // namespace strata

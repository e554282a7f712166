#pragma once
// The HTML report of an archive, written by results/report.py (matplotlib + h5py + plotly), and
// the results' Python that `strata export` runs too.
#include <filesystem>
#include <string>
#include <vector>

namespace strata {

// Writes DIR/index.html (default: ARCHIVE with ".report" in place of ".h5"). Returns the
// script's exit code; a missing Python or plotting library is reported, not fatal to a run.
int write_report(const std::filesystem::path& archive, const std::filesystem::path& out_dir = {});

// Runs the results' Python (STRATA_PYTHON, else the interpreter found at build time) with `args`,
// results/ first on PYTHONPATH so that its strata_results package is the one imported. Returns
// the exit code (127: the interpreter could not be started).
int run_results_python(std::vector<std::string> args);

// The interpreter run_results_python starts.
std::string results_python();

}  // namespace strata

// `strata export ARCHIVE -o DIR [--format csv|parquet]`: the archive's tables as files, written
// by the strata_results package (python -m strata_results export), as the report is by report.py.
#include <filesystem>

#include "core/util/error.h"
#include "core/util/log.h"
#include "orchestrator/commands.h"
#include "orchestrator/report.h"

namespace strata::cli {

void add_export_command(CLI::App& app, ExportArgs& a) {
  auto* c = app.add_subcommand("export", "write an archive's tables (runs, strata, trained models, ...) as files");
  c->add_option("archive", a.archive, "archive (.h5)")->required();
  c->add_option("-o,--out", a.out, "output folder")->required();
  // Checked by the package, which names the choices in one line.
  c->add_option("--format", a.format, "csv (default) or parquet");
}

int run_export_command(const ExportArgs& a) {
  if (!std::filesystem::is_regular_file(a.archive)) fail_input("export: {}: no such file", a.archive);
  const int code = run_results_python({"-m", "strata_results", "export", a.archive, "-o", a.out, "--format", a.format});
  // The package has printed its one line for bad input (exit 2); 127: no interpreter to run it.
  if (code == 127) fail_run("export: could not run {} (set STRATA_PYTHON to a Python with pandas and h5py)",
                            results_python());
  if (code == 128) fail_input("export: {}: the reader was killed by a signal (h5py on a damaged file?)", a.archive);
  return code;
}

}  // namespace strata::cli

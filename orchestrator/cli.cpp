#include "orchestrator/cli.h"

#include <CLI/CLI.hpp>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "core/io/h5_probe.h"
#include "core/util/error.h"
#include "core/util/log.h"
#include "orchestrator/boundary.h"
#include "orchestrator/commands.h"
#include "orchestrator/plan.h"
#include "orchestrator/report.h"
#include "orchestrator/runner.h"
#include "orchestrator/summary.h"
#include "orchestrator/sweep.h"

namespace strata::cli {

namespace {

struct Args {
  std::string sweep, archive, device = "auto", out;
  bool resume = false, quiet = false, no_report = false, verbose = false, log_json = false, live = false;
  int threads = 0;
  bool boundary = false;  // inspect --boundary
  std::string embedding;
  std::int64_t limit = 20;
  EmbedArgs embed;
  ExportArgs export_args;
};

void add_run(CLI::App& app, Args& a) {
  auto* run = app.add_subcommand("run", "run a sweep: corpus, embeddings, training, analyses, report");
  run->add_option("sweep", a.sweep, "sweep file (TOML)")->required();
  run->add_flag("--resume", a.resume, "continue an existing archive, skipping finished jobs");
  run->add_option("--archive", a.archive, "archive path (default: the sweep's [experiment] archive)");
  run->add_option("--device", a.device, "cpu, cuda or auto")->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  run->add_option("--threads", a.threads, "CPU threads for torch (default: all cores; under mpirun, each worker its share of its node's cores)")->check(CLI::NonNegativeNumber);
  run->add_flag("--no-report", a.no_report, "do not write the HTML report at the end");
  run->add_flag("--quiet", a.quiet, "print warnings and errors only");
  run->add_flag("--log-json", a.log_json, "one JSON object per event on stdout (warnings and errors still on stderr)");
  run->add_flag("--live", a.live, "the live display even when stderr is not a terminal (e.g. under mpirun)");
  run->add_flag("-v,--verbose", a.verbose, "print debugging detail");
}

int do_run(const Args& a) {
  const auto s = sweep::load_sweep(a.sweep);
  RunOptions opt;
  opt.archive = a.archive;
  opt.resume = a.resume;
  opt.device = a.device;
  opt.threads = a.threads;
  opt.report = !a.no_report;
  opt.summary = !a.quiet && !a.log_json;
  // The live display wants a terminal to redraw on; quiet and verbose runs want lines.
  if (a.log_json)
    opt.progress = progress::Style::json;
  else if (a.live || (!a.quiet && !a.verbose && isatty(STDERR_FILENO)))
    opt.progress = progress::Style::live;
  return under_mpi() ? run_sweep_mpi(s, opt) : run_sweep(s, opt);
}

int dispatch(CLI::App& app, Args& a) {
  if (a.quiet || a.log_json) log::set_level(log::Level::warn);
  if (a.verbose) log::set_level(log::Level::debug);
  if (app.got_subcommand("run")) return do_run(a);
  if (app.got_subcommand("plan")) {
    const auto s = sweep::load_sweep(a.sweep);
    std::fputs(plan::describe(plan::make_plan(s), s).c_str(), stdout);
    return 0;
  }
  if (app.got_subcommand("inspect")) {
    // An archive from anywhere: read in a child first, as HDF5 crashes on some damaged files.
    if (const auto why = io::h5::unsafe_to_read({a.archive})[0]; !why.empty())
      fail_input("{}: damaged: {}", a.archive, why);
    const std::string text = a.boundary ? boundary_listing(a.archive, a.embedding, a.limit) : summarize_archive(a.archive, false);
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  if (app.got_subcommand("report")) return write_report(a.archive, a.out) == 0 ? 0 : 1;
  if (app.got_subcommand("embed")) return run_embed_command(a.embed);
  if (app.got_subcommand("keys")) {
    std::fputs(sweep::keys_reference().c_str(), stdout);
    return 0;
  }
  if (app.got_subcommand("export")) return run_export_command(a.export_args);
  std::fputs(app.help().c_str(), stdout);
  return 0;
}

// An error message as one line of reasonable length: messages quote what files hold (a label,
// a token, a pattern), which may carry line breaks, control characters or megabytes.
std::string one_line(std::string_view message) {
  constexpr std::size_t kLongest = 2000;
  std::string out;
  for (const char c : message.substr(0, kLongest)) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += '?';
    else out += c;
  }
  if (message.size() > kLongest) out += fmt::format(" ... ({} characters more)", message.size() - kLongest);
  return out;
}

void print_error(std::string_view message) { std::fprintf(stderr, "strata: error: %s\n", one_line(message).c_str()); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"strata: stratified-space analysis of LLM embedding spaces"};
  app.set_version_flag("--version", std::string("strata ") + STRATA_VERSION);
  app.require_subcommand(0, 1);
  Args a;
  add_run(app, a);
  auto* plan = app.add_subcommand("plan", "print the expanded grid of a sweep without computing");
  plan->add_option("sweep", a.sweep, "sweep file (TOML)")->required();
  auto* inspect = app.add_subcommand("inspect", "what an archive holds");
  inspect->add_option("archive", a.archive, "archive (.h5)")->required()->check(CLI::ExistingFile);
  inspect->add_flag("--boundary", a.boundary, "the points where strata meet (from [geometry]), with their texts");
  inspect->add_option("--embedding", a.embedding, "only this embedding's (with --boundary)");
  inspect->add_option("--limit", a.limit, "points listed per embedding (with --boundary)")->capture_default_str();
  auto* report = app.add_subcommand("report", "write the HTML report of an archive");
  report->add_option("archive", a.archive, "archive (.h5)")->required()->check(CLI::ExistingFile);
  report->add_option("-o,--out", a.out, "output folder (default: ARCHIVE with .report)");
  add_embed_command(app, a.embed);
  app.add_subcommand("keys", "every section and key of a sweep file: type, default, range, meaning (Markdown)");
  add_export_command(app, a.export_args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    return dispatch(app, a);
  } catch (const InputError& e) {
    print_error(e.what());
    return 2;
  } catch (const c10::Error& e) {
    print_error(e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    print_error(e.what());
    return 1;
  }
}

}  // namespace strata::cli

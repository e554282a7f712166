#include "orchestrator/report.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/util/log.h"

namespace strata {

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// Runs argv and waits; `python_path` (when not empty) goes first on the child's PYTHONPATH.
int run_process(std::vector<std::string> argv, const std::string& python_path = {}) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::string path_value = python_path;
  if (const char* old = std::getenv("PYTHONPATH"); old && *old && !python_path.empty()) {
    path_value.push_back(':');
    path_value.append(old, std::strlen(old));
  }
  const pid_t pid = fork();
  if (pid == 0) {
    if (!python_path.empty()) setenv("PYTHONPATH", path_value.c_str(), 1);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

}  // namespace

std::string results_python() { return env_or("STRATA_PYTHON", STRATA_REPORT_PYTHON); }

int run_results_python(std::vector<std::string> args) {
  // The source tree's strata_results comes first, so that the package a report or an export
  // reads with is the one of this strata, whatever else the interpreter has installed.
  args.insert(args.begin(), results_python());
  return run_process(std::move(args), STRATA_RESULTS_DIR);
}

int write_report(const std::filesystem::path& archive, const std::filesystem::path& out_dir) {
  // The interpreter and script found at build time, unless the environment names others.
  const std::string python = results_python();
  const std::string script = env_or("STRATA_REPORT_SCRIPT", STRATA_RESULTS_DIR "/report.py");
  std::filesystem::path dir = out_dir;
  if (dir.empty()) dir = std::filesystem::path(archive).replace_extension(".report");
  if (!std::filesystem::exists(script)) {
    log::warn("report: {} not found; no report written", script);
    return 2;
  }
  const int code = run_results_python({script, archive.string(), "-o", dir.string()});
  if (code == 0) log::info("report: {}", (dir / "index.html").string());
  else log::warn("report: {} {} exited with code {}", python, script, code);
  return code;
}

}  // namespace strata

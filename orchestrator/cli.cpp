#include "orchestrator/cli.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "core/util/error.h"

namespace strata::cli {

int main(int argc, char** argv) {
  CLI::App app{"strata: stratified-space analysis of LLM embedding spaces"};
  app.set_version_flag("--version", std::string("strata ") + STRATA_VERSION);
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (app.get_subcommands().empty()) {
      std::fputs(app.help().c_str(), stdout);
    }
    return 0;
  } catch (const InputError& e) {
    std::fprintf(stderr, "strata: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "strata: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace strata::cli

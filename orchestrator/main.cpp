// The `strata` command line.
#include "orchestrator/cli.h"

int main(int argc, char** argv) { return strata::cli::main(argc, argv); }

#pragma once

namespace strata::cli {

// Parses the command line, runs the verb, and turns every error into one line on stderr.
// Exit codes: 0 ok, 1 a run failed, 2 bad input.
int main(int argc, char** argv);

}  // namespace strata::cli

#pragma once
// What the JSON-printing test drivers share: `tool VERB ARGS...` runs one verb and prints its
// result as one line of JSON; any error is one line on stderr and exit code 1, never a crash.
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/util/error.h"

namespace strata::test {

using VerbArgs = std::vector<std::string>;
using Verbs = std::map<std::string, std::function<nlohmann::json(const VerbArgs&)>>;

// args: the command line after the program's name and its own options; setup runs first (inside
// the same error handling), e.g. to apply those options.
inline int run_verb(const char* tool, const VerbArgs& args, const Verbs& verbs, const std::function<void()>& setup = {}) {
  try {
    if (setup) setup();
    std::vector<std::string> names;
    for (const auto& [name, _] : verbs) names.push_back(name);
    if (args.empty()) fail_input("usage: {} VERB ARGS... (verbs: {})", tool, fmt::join(names, ", "));
    const auto it = verbs.find(args[0]);
    if (it == verbs.end()) fail_input("{}: unknown verb '{}' (verbs: {})", tool, args[0], fmt::join(names, ", "));
    std::cout << it->second(VerbArgs(args.begin() + 1, args.end())).dump() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << tool << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace strata::test

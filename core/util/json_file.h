#pragma once
// Reading a JSON file strata does not control (a snapshot's config, a tokenizer, a weights
// index): the text is checked for its nesting first, and any failure is one InputError that
// names the file and, for a syntax error, the byte.
#include <filesystem>

#include <nlohmann/json.hpp>

namespace strata {

nlohmann::json read_json_file(const std::filesystem::path& file);

}  // namespace strata

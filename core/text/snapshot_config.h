#pragma once
// The small json files beside a tokenizer in a Hugging Face snapshot
// (tokenizer_config.json, special_tokens_map.json); files are read by core/util/json_file.h.
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/util/json_file.h"

namespace strata::text {

// The pad token named by tokenizer_config.json, else special_tokens_map.json, in `dir`;
// `read` receives the file it came from.
std::optional<std::string> configured_pad_token(const std::filesystem::path& dir,
                                                std::optional<std::filesystem::path>& read);

// A token entry that is either "text" or {"content": "text", ...}.
std::optional<std::string> token_content(const nlohmann::json& j);

}  // namespace strata::text

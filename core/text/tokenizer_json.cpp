// Loading tokenizer.json, the single-file format of Hugging Face `tokenizers`.
#include <climits>

#include "core/util/json_access.h"
#include "core/text/snapshot_config.h"
#include "core/text/tokenizer_parts.h"
#include "core/util/error.h"

namespace strata::text {
namespace {

std::vector<AddedToken> added_tokens_from_json(const nlohmann::json& root, const std::string& ctx) {
  std::vector<AddedToken> out;
  if (!root.contains("added_tokens") || root["added_tokens"].is_null()) return out;
  const auto& list = require_array(root, "added_tokens", ctx);
  for (std::size_t k = 0; k < list.size(); ++k) {
    const std::string where = ctx + " added_tokens[" + std::to_string(k) + "]";
    AddedToken t;
    t.content = get_string(list[k], "content", where);
    const auto id = get_int(list[k], "id", where);
    if (id < 0 || id > INT32_MAX) fail_input("{}.id: out of range", where);
    t.id = static_cast<std::int32_t>(id);
    t.special = get_bool(list[k], "special", where, false);
    t.lstrip = get_bool(list[k], "lstrip", where, false);
    t.rstrip = get_bool(list[k], "rstrip", where, false);
    t.single_word = get_bool(list[k], "single_word", where, false);
    t.normalized = get_bool(list[k], "normalized", where, !t.special);
    out.push_back(std::move(t));
  }
  return out;
}

void read_padding_and_truncation(const nlohmann::json& root, const std::string& ctx, TokenizerParts& parts) {
  if (root.contains("padding") && root["padding"].is_object()) {
    const std::string where = ctx + " padding";
    if (const auto id = get_optional_int(root["padding"], "pad_id", where)) parts.pad_id = static_cast<std::int32_t>(*id);
    parts.pad_token = get_optional_string(root["padding"], "pad_token", where);
  }
  if (root.contains("truncation") && root["truncation"].is_object()) {
    const auto dir = get_optional_string(root["truncation"], "direction", ctx + " truncation");
    parts.truncate_left = dir && *dir == "Left";
  }
}

}  // namespace

TokenizerParts load_tokenizer_json(const std::filesystem::path& file) {
  const std::string ctx = file.string() + ":";
  const auto root = read_json_file(file);
  if (!root.is_object()) fail_input("{}: expected a json object at the top level", file.string());
  TokenizerParts parts;
  parts.files.push_back(file);
  try {
    const auto section = [&](const char* key) -> const nlohmann::json& {
      static const nlohmann::json null_json;
      const auto it = root.find(key);
      return it == root.end() ? null_json : *it;
    };
    if (!root.contains("model")) fail_input("{} model: missing", ctx);
    parts.normalizer = make_normalizer(section("normalizer"), ctx + " normalizer");
    parts.pre_tokenizer = make_pre_tokenizer(section("pre_tokenizer"), ctx + " pre_tokenizer");
    parts.model = make_model(root["model"], ctx + " model");
    parts.post_processor = make_post_processor(section("post_processor"), ctx + " post_processor");
    parts.added_tokens = added_tokens_from_json(root, ctx);
    read_padding_and_truncation(root, ctx, parts);
  } catch (const nlohmann::json::exception& e) {
    fail_input("{}: unexpected content: {}", file.string(), e.what());
  }
  if (!parts.pad_id && !parts.pad_token) {
    std::optional<std::filesystem::path> from;
    parts.pad_token = configured_pad_token(file.parent_path(), from);
    if (from) parts.files.push_back(*from);
  }
  return parts;
}

}  // namespace strata::text

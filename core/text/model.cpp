#include "core/text/model.h"

#include <climits>

#include "core/util/json_access.h"
#include "core/util/error.h"

namespace strata::text {
namespace {

MergeList merges_from_json(const nlohmann::json& list, const std::string& ctx) {
  MergeList merges;
  merges.reserve(list.size());
  for (std::size_t k = 0; k < list.size(); ++k) {
    const auto& m = list[k];
    if (m.is_string()) {  // older files: "left right"
      const auto s = m.get<std::string>();
      const auto space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        fail_input("{}.merges[{}]: expected two tokens separated by one space, got '{}'", ctx, k, s);
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      fail_input("{}.merges[{}]: expected \"a b\" or [\"a\", \"b\"]", ctx, k);
    }
  }
  return merges;
}

std::unique_ptr<Model> make_bpe_from_json(const nlohmann::json& j, const std::string& ctx) {
  if (j.contains("dropout") && j["dropout"].is_number() && j["dropout"].get<double>() > 0.0)
    fail_input("{}.dropout: BPE dropout is random and not supported", ctx);
  BpeOptions o;
  o.unk_token = get_optional_string(j, "unk_token", ctx);
  o.continuing_subword_prefix = get_optional_string(j, "continuing_subword_prefix", ctx).value_or("");
  o.end_of_word_suffix = get_optional_string(j, "end_of_word_suffix", ctx).value_or("");
  o.fuse_unk = get_bool(j, "fuse_unk", ctx, false);
  o.byte_fallback = get_bool(j, "byte_fallback", ctx, false);
  o.ignore_merges = get_bool(j, "ignore_merges", ctx, false);
  return make_bpe(vocab_from_json(require(j, "vocab", ctx), ctx + ".vocab"),
                  merges_from_json(require_array(j, "merges", ctx), ctx), std::move(o), ctx);
}

std::unique_ptr<Model> make_wordpiece_from_json(const nlohmann::json& j, const std::string& ctx) {
  WordPieceOptions o;
  o.unk_token = get_optional_string(j, "unk_token", ctx).value_or("[UNK]");
  o.continuing_subword_prefix = get_optional_string(j, "continuing_subword_prefix", ctx).value_or("##");
  if (const auto n = get_optional_int(j, "max_input_chars_per_word", ctx)) {
    if (*n < 0) fail_input("{}.max_input_chars_per_word: must not be negative", ctx);
    o.max_input_chars_per_word = static_cast<std::size_t>(*n);
  }
  return make_wordpiece(vocab_from_json(require(j, "vocab", ctx), ctx + ".vocab"), std::move(o), ctx);
}

}  // namespace

Vocab vocab_from_json(const nlohmann::json& j, const std::string& ctx) {
  if (!j.is_object()) fail_input("{}: expected an object of token: id", ctx);
  Vocab v;
  v.reserve(j.size());
  for (const auto& [token, id] : j.items()) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() > INT32_MAX)
      fail_input("{}: id of '{}' is not a valid non-negative integer", ctx, token);
    v.emplace(token, static_cast<std::int32_t>(id.get<std::int64_t>()));
  }
  return v;
}

std::unique_ptr<Model> make_model(const nlohmann::json& j, const std::string& ctx) {
  if (!j.is_object()) fail_input("{}: expected an object", ctx);
  // Files written by old versions may omit the type; the fields tell the model apart.
  std::string type;
  if (const auto t = get_optional_string(j, "type", ctx)) type = *t;
  else if (j.contains("merges")) type = "BPE";
  else if (j.contains("max_input_chars_per_word")) type = "WordPiece";
  else fail_input("{}.type: missing", ctx);
  if (type == "BPE") return make_bpe_from_json(j, ctx);
  if (type == "WordPiece") return make_wordpiece_from_json(j, ctx);
  fail_input("{}.type '{}' is not supported", ctx, type);
}

}  // namespace strata::text

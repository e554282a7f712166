#include "core/text/post_processor.h"

#include "core/util/json_access.h"
#include "core/util/error.h"

namespace strata::text {
namespace {

class WrappingProcessor final : public PostProcessor {
 public:
  WrappingProcessor(std::vector<std::int32_t> prefix, std::vector<std::int32_t> suffix)
      : prefix_(std::move(prefix)), suffix_(std::move(suffix)) {}
  std::size_t added_tokens() const override { return prefix_.size() + suffix_.size(); }
  void apply(std::vector<std::int32_t>& ids) const override {
    ids.insert(ids.begin(), prefix_.begin(), prefix_.end());
    ids.insert(ids.end(), suffix_.begin(), suffix_.end());
  }

 private:
  std::vector<std::int32_t> prefix_, suffix_;
};

// The template is a list of special tokens around one "Sequence" item; ids may be spread
// on both sides, so it is kept as a list rather than prefix/suffix.
class TemplateProcessor final : public PostProcessor {
 public:
  struct Item {
    bool is_sequence;
    std::vector<std::int32_t> ids;
  };
  explicit TemplateProcessor(std::vector<Item> items) : items_(std::move(items)) {}
  std::size_t added_tokens() const override {
    std::size_t n = 0;
    for (const auto& it : items_) n += it.ids.size();
    return n;
  }
  void apply(std::vector<std::int32_t>& ids) const override {
    std::vector<std::int32_t> out;
    out.reserve(ids.size() + added_tokens());
    for (const auto& it : items_) {
      if (it.is_sequence) out.insert(out.end(), ids.begin(), ids.end());
      else out.insert(out.end(), it.ids.begin(), it.ids.end());
    }
    ids = std::move(out);
  }

 private:
  std::vector<Item> items_;
};

class NoOpProcessor final : public PostProcessor {
 public:
  std::size_t added_tokens() const override { return 0; }
  void apply(std::vector<std::int32_t>&) const override {}
};

class SequenceProcessor final : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> steps) : steps_(std::move(steps)) {}
  std::size_t added_tokens() const override {
    std::size_t n = 0;
    for (const auto& s : steps_) n += s->added_tokens();
    return n;
  }
  void apply(std::vector<std::int32_t>& ids) const override {
    for (const auto& s : steps_) s->apply(ids);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

// ["[CLS]", 101] as BertProcessing and RobertaProcessing write their tokens.
std::int32_t token_pair_id(const nlohmann::json& j, const char* key, const std::string& ctx) {
  const auto& v = require(j, key, ctx);
  if (!v.is_array() || v.size() != 2 || !v[1].is_number_integer())
    fail_input("{}.{}: expected [token, id]", ctx, key);
  return v[1].get<std::int32_t>();
}

std::unique_ptr<PostProcessor> make_template(const nlohmann::json& j, const std::string& ctx) {
  const auto& special = require(j, "special_tokens", ctx);
  const auto& single = require_array(j, "single", ctx);
  std::vector<TemplateProcessor::Item> items;
  for (std::size_t k = 0; k < single.size(); ++k) {
    const std::string where = ctx + ".single[" + std::to_string(k) + "]";
    const auto& piece = single[k];
    if (piece.contains("Sequence")) {
      items.push_back({true, {}});
    } else if (piece.contains("SpecialToken")) {
      const std::string name = get_string(piece["SpecialToken"], "id", where + ".SpecialToken");
      if (!special.contains(name)) fail_input("{}: special token '{}' is not in special_tokens", where, name);
      const auto& ids = require_array(special[name], "ids", ctx + ".special_tokens." + name);
      items.push_back({false, ids.get<std::vector<std::int32_t>>()});
    } else {
      fail_input("{}: expected a Sequence or a SpecialToken", where);
    }
  }
  return std::make_unique<TemplateProcessor>(std::move(items));
}

}  // namespace

std::unique_ptr<PostProcessor> make_wrapping_processor(std::vector<std::int32_t> prefix,
                                                       std::vector<std::int32_t> suffix) {
  return std::make_unique<WrappingProcessor>(std::move(prefix), std::move(suffix));
}

std::unique_ptr<PostProcessor> make_post_processor(const nlohmann::json& j, const std::string& ctx) {
  if (j.is_null()) return nullptr;
  const std::string type = get_type(j, ctx);
  if (type == "BertProcessing" || type == "RobertaProcessing")
    return make_wrapping_processor({token_pair_id(j, "cls", ctx)}, {token_pair_id(j, "sep", ctx)});
  if (type == "TemplateProcessing") return make_template(j, ctx);
  if (type == "ByteLevel") return std::make_unique<NoOpProcessor>();
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PostProcessor>> steps;
    const auto& list = require_array(j, "processors", ctx);
    for (std::size_t k = 0; k < list.size(); ++k) {
      auto p = make_post_processor(list[k], ctx + ".processors[" + std::to_string(k) + "]");
      if (p) steps.push_back(std::move(p));
    }
    return std::make_unique<SequenceProcessor>(std::move(steps));
  }
  fail_input("{}.type '{}' is not supported", ctx, type);
}

}  // namespace strata::text

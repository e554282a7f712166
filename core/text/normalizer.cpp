#include "core/text/normalizer.h"

#include <vector>

#include "core/util/json_access.h"
#include "core/text/regex.h"
#include "core/text/unicode.h"
#include "core/text/utf8.h"
#include "core/util/error.h"

namespace strata::text {

std::string bert_clean_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char32_t c = next_code_point(text, i);
    if (c == 0 || c == 0xFFFD || is_bert_control(c)) continue;
    if (is_whitespace(c)) {
      out.push_back(' ');
    } else {
      append_utf8(out, c);
    }
  }
  return out;
}

std::string bert_pad_cjk(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  std::size_t i = 0;
  while (i < text.size()) {
    const char32_t c = next_code_point(text, i);
    if (is_cjk_ideograph(c)) {
      out.push_back(' ');
      append_utf8(out, c);
      out.push_back(' ');
    } else {
      append_utf8(out, c);
    }
  }
  return out;
}

namespace {

template <typename Keep>
std::string filter_chars(std::string_view text, Keep keep) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t begin = i;
    const char32_t c = next_code_point(text, i);
    if (keep(c)) out.append(text.substr(begin, i - begin));
  }
  return out;
}

class BertNormalizer final : public Normalizer {
 public:
  explicit BertNormalizer(const BertNormalizerOptions& o) : o_(o) {}
  std::string normalize(std::string_view text) const override {
    std::string s(text);
    if (o_.clean_text) s = bert_clean_text(s);
    if (o_.handle_chinese_chars) s = bert_pad_cjk(s);
    if (o_.strip_accents) s = strip_nonspacing_marks(normalize_form(s, NormalForm::nfd));
    if (o_.lowercase) s = lowercase(s);
    return s;
  }

 private:
  BertNormalizerOptions o_;
};

class FormNormalizer final : public Normalizer {
 public:
  explicit FormNormalizer(NormalForm f) : form_(f) {}
  std::string normalize(std::string_view text) const override { return normalize_form(text, form_); }

 private:
  NormalForm form_;
};

class LowercaseNormalizer final : public Normalizer {
 public:
  std::string normalize(std::string_view text) const override { return lowercase(text); }
};

// `tokenizers`' StripAccents removes every combining mark (Mn, Mc, Me) without decomposing.
class StripAccentsNormalizer final : public Normalizer {
 public:
  std::string normalize(std::string_view text) const override {
    return filter_chars(text, [](char32_t c) { return !is_mark(c); });
  }
};

class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  std::string normalize(std::string_view text) const override {
    const auto cps = to_code_points(text);
    std::size_t b = 0, e = cps.size();
    if (left_) while (b < e && is_whitespace(cps[b])) ++b;
    if (right_) while (e > b && is_whitespace(cps[e - 1])) --e;
    return from_code_points(std::vector<char32_t>(cps.begin() + static_cast<std::ptrdiff_t>(b),
                                                  cps.begin() + static_cast<std::ptrdiff_t>(e)));
  }

 private:
  bool left_, right_;
};

class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::string p) : prefix_(std::move(p)) {}
  std::string normalize(std::string_view text) const override {
    return text.empty() ? std::string() : prefix_ + std::string(text);
  }

 private:
  std::string prefix_;
};

// Replace with a literal string or a regex pattern; every occurrence is replaced.
class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(std::string literal, std::unique_ptr<Regex> regex, std::string content)
      : literal_(std::move(literal)), regex_(std::move(regex)), content_(std::move(content)) {}
  std::string normalize(std::string_view text) const override {
    std::string out;
    std::size_t last = 0;
    for (const auto& [b, e] : matches(text)) {
      out.append(text.substr(last, b - last));
      out += content_;
      last = e;
    }
    out.append(text.substr(last));
    return out;
  }

 private:
  std::vector<std::pair<std::size_t, std::size_t>> matches(std::string_view text) const {
    if (regex_) return regex_->find_all(text);
    std::vector<std::pair<std::size_t, std::size_t>> m;
    if (literal_.empty()) return m;
    for (std::size_t p = text.find(literal_); p != std::string_view::npos;
         p = text.find(literal_, p + literal_.size()))
      m.emplace_back(p, p + literal_.size());
    return m;
  }
  std::string literal_;
  std::unique_ptr<Regex> regex_;
  std::string content_;
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  std::string normalize(std::string_view text) const override {
    std::string s(text);
    for (const auto& step : steps_) if (step) s = step->normalize(s);
    return s;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

std::unique_ptr<Normalizer> make_replace(const nlohmann::json& j, const std::string& ctx) {
  const auto& pattern = require(j, "pattern", ctx);
  std::string content = get_string(j, "content", ctx);
  if (pattern.contains("String"))
    return std::make_unique<ReplaceNormalizer>(get_string(pattern, "String", ctx + ".pattern"), nullptr,
                                               std::move(content));
  if (pattern.contains("Regex"))
    return std::make_unique<ReplaceNormalizer>(
        "", std::make_unique<Regex>(get_string(pattern, "Regex", ctx + ".pattern"), ctx + ".pattern"),
        std::move(content));
  fail_input("{}.pattern: expected a 'String' or a 'Regex'", ctx);
}

}  // namespace

std::string strip_nonspacing_marks(std::string_view text) {
  return filter_chars(text, [](char32_t c) { return !is_nonspacing_mark(c); });
}

std::unique_ptr<Normalizer> make_bert_normalizer(const BertNormalizerOptions& options) {
  return std::make_unique<BertNormalizer>(options);
}

std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j, const std::string& ctx) {
  if (j.is_null()) return nullptr;
  const std::string type = get_type(j, ctx);
  if (type == "BertNormalizer") {
    BertNormalizerOptions o;
    o.clean_text = get_bool(j, "clean_text", ctx, true);
    o.handle_chinese_chars = get_bool(j, "handle_chinese_chars", ctx, true);
    o.lowercase = get_bool(j, "lowercase", ctx, true);
    o.strip_accents = get_bool(j, "strip_accents", ctx, o.lowercase);
    return make_bert_normalizer(o);
  }
  if (type == "NFC") return std::make_unique<FormNormalizer>(NormalForm::nfc);
  if (type == "NFD") return std::make_unique<FormNormalizer>(NormalForm::nfd);
  if (type == "NFKC") return std::make_unique<FormNormalizer>(NormalForm::nfkc);
  if (type == "NFKD") return std::make_unique<FormNormalizer>(NormalForm::nfkd);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  if (type == "Strip")
    return std::make_unique<StripNormalizer>(get_bool(j, "strip_left", ctx, true),
                                             get_bool(j, "strip_right", ctx, true));
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(get_string(j, "prepend", ctx));
  if (type == "Replace") return make_replace(j, ctx);
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> steps;
    const auto& list = require_array(j, "normalizers", ctx);
    for (std::size_t k = 0; k < list.size(); ++k)
      steps.push_back(make_normalizer(list[k], ctx + ".normalizers[" + std::to_string(k) + "]"));
    return std::make_unique<SequenceNormalizer>(std::move(steps));
  }
  fail_input("{}.type '{}' is not supported", ctx, type);
}

}  // namespace strata::text

#pragma once
// Normalizers of Hugging Face `tokenizers` (the `normalizer` section of tokenizer.json).
// Only the resulting text matters here: ids are what strata needs, not offsets.
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace strata::text {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual std::string normalize(std::string_view text) const = 0;
};

struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;  // a null in the json means "same as lowercase"
  bool lowercase = true;
};
std::unique_ptr<Normalizer> make_bert_normalizer(const BertNormalizerOptions& options);

// Builds a normalizer from its json object; `context` (e.g. "tokenizer.json: normalizer")
// prefixes error messages. A null json gives nullptr (no normalisation).
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j, const std::string& context);

// Single steps, exposed for unit tests and for building tokenizers from older file sets.
std::string bert_clean_text(std::string_view text);
std::string bert_pad_cjk(std::string_view text);
std::string strip_nonspacing_marks(std::string_view text);

}  // namespace strata::text

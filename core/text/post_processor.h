#pragma once
// Post-processors (the `post_processor` section of tokenizer.json): add the special tokens
// of a single sequence (CLS/SEP, BOS, <s>/</s>).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace strata::text {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // How many ids apply() adds to a single sequence (truncation keeps room for them).
  virtual std::size_t added_tokens() const = 0;
  virtual void apply(std::vector<std::int32_t>& ids) const = 0;
};

// `prefix` ids, the sequence, then `suffix` ids: what BertProcessing, RobertaProcessing and
// single-sequence templates all come down to.
std::unique_ptr<PostProcessor> make_wrapping_processor(std::vector<std::int32_t> prefix,
                                                       std::vector<std::int32_t> suffix);

// Builds a post-processor from its json object; null gives nullptr.
std::unique_ptr<PostProcessor> make_post_processor(const nlohmann::json& j, const std::string& context);

}  // namespace strata::text

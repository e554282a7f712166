#pragma once
// The components a Tokenizer is assembled from, filled by the file loaders.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/text/added_vocabulary.h"
#include "core/text/model.h"
#include "core/text/normalizer.h"
#include "core/text/post_processor.h"
#include "core/text/pre_tokenizer.h"

namespace strata::text {

struct TokenizerParts {
  std::unique_ptr<Normalizer> normalizer;        // may be null
  std::unique_ptr<PreTokenizer> pre_tokenizer;   // may be null
  std::unique_ptr<Model> model;                  // required
  std::unique_ptr<PostProcessor> post_processor; // may be null
  std::vector<AddedToken> added_tokens;
  std::optional<std::int32_t> pad_id;
  std::optional<std::string> pad_token;           // resolved to pad_id when pad_id is unset
  bool truncate_left = false;
  std::vector<std::filesystem::path> files;      // what was read, for the hash
};

TokenizerParts load_tokenizer_json(const std::filesystem::path& file);
TokenizerParts load_wordpiece_files(const std::filesystem::path& dir);  // vocab.txt
TokenizerParts load_bpe_files(const std::filesystem::path& dir);        // vocab.json + merges.txt

}  // namespace strata::text

#include "core/text/tokenizer.h"

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>

#include "core/text/tokenizer_parts.h"
#include "core/text/utf8.h"
#include "core/util/error.h"
#include "core/util/hash.h"

namespace strata::text {

namespace fs = std::filesystem;

struct Tokenizer::Impl {
  TokenizerParts parts;
  AddedTokenMatcher raw_tokens;         // added tokens matched before normalisation
  AddedTokenMatcher normalized_tokens;  // matched in the normalised text
  Vocab added_by_content;
  std::size_t vocab_size = 0;
  std::string hash;

  void tokenize_plain(std::string_view text, bool at_text_start, std::vector<std::int32_t>& ids) const;
  std::vector<std::int32_t> encode(std::string_view text, bool add_special_tokens, std::size_t max_length) const;
};

namespace {

std::string hash_files(const std::vector<fs::path>& files) {
  if (files.size() == 1) return sha256_file(files.front());
  // Several files: each one's name and digest, in load order.
  Sha256 h;
  for (const auto& f : files) h.field(f.filename().string()).field(sha256_file(f));
  return h.hex();
}

}  // namespace

// Normalises one stretch of text that holds no raw added token, then finds the normalised
// added tokens, pre-tokenizes the rest and runs the model on every piece.
void Tokenizer::Impl::tokenize_plain(std::string_view text, bool at_text_start, std::vector<std::int32_t>& ids) const {
  const std::string normalized = parts.normalizer ? parts.normalizer->normalize(text) : std::string(text);
  std::vector<TextSegment> segments;
  if (normalized_tokens.empty()) segments.push_back({0, normalized.size(), std::nullopt});
  else segments = normalized_tokens.split(normalized);
  std::vector<Piece> pieces;
  for (const auto& seg : segments) {
    if (seg.token) {
      ids.push_back(*seg.token);
      continue;
    }
    if (seg.end == seg.begin) continue;
    pieces.clear();
    pieces.push_back({normalized.substr(seg.begin, seg.end - seg.begin), at_text_start && seg.begin == 0});
    if (parts.pre_tokenizer) parts.pre_tokenizer->apply(pieces);
    for (const auto& p : pieces) parts.model->tokenize(p.text, ids);
  }
}

std::vector<std::int32_t> Tokenizer::Impl::encode(std::string_view input, bool add_special_tokens,
                                                  std::size_t max_length) const {
  std::string repaired;
  std::string_view text = input;
  if (!is_valid_utf8(input)) {
    repaired = repair_utf8(input);
    text = repaired;
  }
  std::vector<std::int32_t> ids;
  for (const auto& seg : raw_tokens.split(text)) {
    if (seg.token) ids.push_back(*seg.token);
    else tokenize_plain(text.substr(seg.begin, seg.end - seg.begin), seg.begin == 0, ids);
  }
  const PostProcessor* post = add_special_tokens ? parts.post_processor.get() : nullptr;
  const std::size_t added = post ? post->added_tokens() : 0;
  // A limit smaller than the special tokens alone leaves the text untruncated, as in `tokenizers`.
  if (max_length > 0 && max_length >= added) {
    const std::size_t keep = max_length - added;
    if (ids.size() > keep) {
      if (parts.truncate_left) ids.erase(ids.begin(), ids.end() - static_cast<std::ptrdiff_t>(keep));
      else ids.resize(keep);
    }
  }
  if (post) post->apply(ids);
  return ids;
}

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Tokenizer Tokenizer::from_parts(TokenizerParts&& parts) {
  if (!parts.model) fail_input("tokenizer: no model");
  auto impl = std::make_shared<Impl>();
  std::vector<AddedToken> raw, norm;
  std::vector<std::string> raw_patterns, norm_patterns;
  for (const auto& t : parts.added_tokens) {
    impl->added_by_content.insert_or_assign(t.content, t.id);
    if (t.normalized) {
      norm.push_back(t);
      norm_patterns.push_back(parts.normalizer ? parts.normalizer->normalize(t.content) : t.content);
    } else {
      raw.push_back(t);
      raw_patterns.push_back(t.content);
    }
  }
  impl->raw_tokens = AddedTokenMatcher(std::move(raw), std::move(raw_patterns));
  impl->normalized_tokens = AddedTokenMatcher(std::move(norm), std::move(norm_patterns));

  impl->vocab_size = parts.model->vocab().size();
  for (const auto& [content, id] : impl->added_by_content)
    if (!lookup(parts.model->vocab(), content)) ++impl->vocab_size;
  impl->hash = parts.files.empty() ? std::string() : hash_files(parts.files);
  impl->parts = std::move(parts);
  if (!impl->parts.pad_id && impl->parts.pad_token) {
    const auto& token = *impl->parts.pad_token;
    if (const auto id = lookup(impl->added_by_content, token)) impl->parts.pad_id = id;
    else impl->parts.pad_id = lookup(impl->parts.model->vocab(), token);
  }
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::from_json_file(const fs::path& tokenizer_json) {
  return from_parts(load_tokenizer_json(tokenizer_json));
}

Tokenizer Tokenizer::from_dir(const fs::path& dir) {
  if (fs::is_regular_file(dir)) return from_json_file(dir);
  if (!fs::is_directory(dir)) fail_input("{}: no such tokenizer folder", dir.string());
  if (fs::exists(dir / "tokenizer.json")) return from_json_file(dir / "tokenizer.json");
  if (fs::exists(dir / "vocab.txt")) return from_parts(load_wordpiece_files(dir));
  if (fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt")) return from_parts(load_bpe_files(dir));
  fail_input("{}: no tokenizer.json, vocab.txt or vocab.json + merges.txt in the folder", dir.string());
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens, std::size_t max_length) const {
  return impl_->encode(text, add_special_tokens, max_length);
}

std::vector<std::vector<std::int32_t>> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                                               bool add_special_tokens, std::size_t max_length,
                                                               int threads) const {
  std::vector<std::vector<std::int32_t>> out(texts.size());
  const std::size_t workers = std::clamp<std::size_t>(threads > 0 ? static_cast<std::size_t>(threads) : 1, 1,
                                                      std::max<std::size_t>(texts.size(), 1));
  auto run = [&](std::size_t w) {
    // Interleaved rows balance long and short texts across workers.
    for (std::size_t i = w; i < texts.size(); i += workers) out[i] = encode(texts[i], add_special_tokens, max_length);
  };
  if (workers == 1) {
    run(0);
    return out;
  }
  std::vector<std::jthread> pool;
  std::exception_ptr error;
  std::mutex error_mutex;
  for (std::size_t w = 0; w < workers; ++w)
    pool.emplace_back([&, w] {
      try {
        run(w);
      } catch (...) {
        const std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    });
  pool.clear();  // joins
  if (error) std::rethrow_exception(error);
  return out;
}

std::optional<std::int32_t> Tokenizer::pad_id() const { return impl_->parts.pad_id; }

std::optional<std::int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (const auto id = lookup(impl_->added_by_content, token)) return id;
  return lookup(impl_->parts.model->vocab(), token);
}

std::size_t Tokenizer::vocab_size() const { return impl_->vocab_size; }

std::string Tokenizer::hash() const { return impl_->hash; }

}  // namespace strata::text

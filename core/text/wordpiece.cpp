// WordPiece: greedy longest-match-first over each word, as BERT's tokenizer does.
#include "core/text/model.h"
#include "core/text/utf8.h"
#include "core/util/error.h"

namespace strata::text {
namespace {

class WordPiece final : public Model {
 public:
  WordPiece(Vocab vocab, WordPieceOptions o, std::int32_t unk_id)
      : vocab_(std::move(vocab)), o_(std::move(o)), unk_id_(unk_id) {}

  void tokenize(std::string_view word, std::vector<std::int32_t>& ids) const override {
    std::vector<std::size_t> bounds;  // byte offsets of character starts, plus the end
    for (std::size_t i = 0; i < word.size(); i += utf8_sequence_length(static_cast<unsigned char>(word[i])))
      bounds.push_back(i);
    if (bounds.size() > o_.max_input_chars_per_word) {
      ids.push_back(unk_id_);
      return;
    }
    bounds.push_back(word.size());
    const std::size_t mark = ids.size();
    std::string candidate;
    std::size_t start = 0;  // index into bounds
    while (start + 1 < bounds.size()) {
      std::size_t end = bounds.size() - 1;
      std::optional<std::int32_t> found;
      for (; end > start; --end) {
        candidate.clear();
        if (start > 0) candidate += o_.continuing_subword_prefix;
        candidate.append(word.substr(bounds[start], bounds[end] - bounds[start]));
        if ((found = lookup(vocab_, candidate))) break;
      }
      if (!found) {
        // One unmatched position makes the whole word unknown.
        ids.resize(mark);
        ids.push_back(unk_id_);
        return;
      }
      ids.push_back(*found);
      start = end;
    }
  }

  const Vocab& vocab() const override { return vocab_; }

 private:
  Vocab vocab_;
  WordPieceOptions o_;
  std::int32_t unk_id_;
};

}  // namespace

std::unique_ptr<Model> make_wordpiece(Vocab vocab, WordPieceOptions options, const std::string& ctx) {
  const auto unk = lookup(vocab, options.unk_token);
  if (!unk) fail_input("{}: unk_token '{}' is not in the vocabulary", ctx, options.unk_token);
  return std::make_unique<WordPiece>(std::move(vocab), std::move(options), *unk);
}

}  // namespace strata::text

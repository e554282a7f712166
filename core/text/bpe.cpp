// Byte-pair encoding: characters are merged pairwise, always the pair of lowest merge rank
// first (leftmost on ties), as `tokenizers`' BPE model does.
#include <cstdio>
#include <queue>

#include "core/text/model.h"
#include "core/text/utf8.h"
#include "core/util/error.h"

namespace strata::text {
namespace {

struct MergeTarget {
  std::uint32_t rank;
  std::int32_t new_id;
};

std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
}

struct Symbol {
  std::int32_t id;
  int prev, next;
  bool alive;
};

struct Candidate {
  std::uint32_t rank;
  int pos;
  std::int32_t new_id;
  // std::priority_queue is a max-heap: "greater" means lower rank, then leftmost.
  bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

class Bpe final : public Model {
 public:
  Bpe(Vocab vocab, const MergeList& merges, BpeOptions o, const std::string& ctx)
      : vocab_(std::move(vocab)), o_(std::move(o)) {
    if (o_.unk_token) unk_id_ = lookup(vocab_, *o_.unk_token);
    for (std::size_t rank = 0; rank < merges.size(); ++rank) add_merge(merges[rank], rank, ctx);
    if (o_.byte_fallback) {
      for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        byte_ids_[b] = lookup(vocab_, name).value_or(-1);
      }
    }
  }

  void tokenize(std::string_view word, std::vector<std::int32_t>& ids) const override {
    if (o_.ignore_merges) {
      if (const auto id = lookup(vocab_, word)) {
        ids.push_back(*id);
        return;
      }
    }
    std::vector<Symbol> symbols = initial_symbols(word);
    merge_all(symbols);
    for (const auto& s : symbols)
      if (s.alive) ids.push_back(s.id);
  }

  const Vocab& vocab() const override { return vocab_; }

 private:
  void add_merge(const std::pair<std::string, std::string>& m, std::size_t rank, const std::string& ctx) {
    const auto a = lookup(vocab_, m.first);
    const auto b = lookup(vocab_, m.second);
    if (!a || !b) fail_input("{}: merge {} '{} {}' uses a token missing from the vocabulary", ctx, rank, m.first, m.second);
    std::string_view right = m.second;
    if (!o_.continuing_subword_prefix.empty() && right.starts_with(o_.continuing_subword_prefix))
      right.remove_prefix(o_.continuing_subword_prefix.size());
    const std::string merged = m.first + std::string(right);
    const auto id = lookup(vocab_, merged);
    if (!id) fail_input("{}: merge {} '{} {}' gives '{}', which is missing from the vocabulary", ctx, rank, m.first, m.second, merged);
    // The first occurrence of a pair wins, as a later duplicate would never be reached.
    merges_.try_emplace(pair_key(*a, *b), MergeTarget{static_cast<std::uint32_t>(rank), *id});
  }

  void push_symbol(std::vector<Symbol>& symbols, std::int32_t id) const {
    const int n = static_cast<int>(symbols.size());
    symbols.push_back({id, n - 1, -1, true});
    if (n > 0) symbols[static_cast<std::size_t>(n - 1)].next = n;
  }

  // One symbol per character (with the subword prefix / suffix where configured); unknown
  // characters become byte tokens (byte_fallback) or the unknown token.
  std::vector<Symbol> initial_symbols(std::string_view word) const {
    std::vector<Symbol> symbols;
    symbols.reserve(word.size());
    std::string buf;
    bool last_was_unk = false;
    std::size_t i = 0;
    while (i < word.size()) {
      const std::size_t begin = i;
      i += utf8_sequence_length(static_cast<unsigned char>(word[i]));
      if (i > word.size()) i = word.size();
      buf.clear();
      if (begin > 0) buf += o_.continuing_subword_prefix;
      buf.append(word.substr(begin, i - begin));
      if (i == word.size()) buf += o_.end_of_word_suffix;
      if (const auto id = lookup(vocab_, buf)) {
        push_symbol(symbols, *id);
        last_was_unk = false;
        continue;
      }
      if (o_.byte_fallback && push_bytes(symbols, word.substr(begin, i - begin))) {
        last_was_unk = false;
        continue;
      }
      if (unk_id_) {
        if (!(o_.fuse_unk && last_was_unk)) push_symbol(symbols, *unk_id_);
        last_was_unk = true;
      }
    }
    return symbols;
  }

  bool push_bytes(std::vector<Symbol>& symbols, std::string_view bytes) const {
    for (unsigned char b : bytes)
      if (byte_ids_[b] < 0) return false;
    for (unsigned char b : bytes) push_symbol(symbols, byte_ids_[b]);
    return true;
  }

  void push_candidate(std::priority_queue<Candidate>& queue, const std::vector<Symbol>& s, int pos) const {
    const int next = s[static_cast<std::size_t>(pos)].next;
    if (next < 0) return;
    const auto it = merges_.find(pair_key(s[static_cast<std::size_t>(pos)].id, s[static_cast<std::size_t>(next)].id));
    if (it != merges_.end()) queue.push({it->second.rank, pos, it->second.new_id});
  }

  void merge_all(std::vector<Symbol>& s) const {
    std::priority_queue<Candidate> queue;
    for (int p = 0; p + 1 < static_cast<int>(s.size()); ++p) push_candidate(queue, s, p);
    while (!queue.empty()) {
      const Candidate top = queue.top();
      queue.pop();
      auto& left = s[static_cast<std::size_t>(top.pos)];
      if (!left.alive || left.next < 0) continue;
      auto& right = s[static_cast<std::size_t>(left.next)];
      // Skip candidates made stale by an earlier merge of either symbol.
      const auto it = merges_.find(pair_key(left.id, right.id));
      if (it == merges_.end() || it->second.new_id != top.new_id) continue;
      left.id = top.new_id;
      right.alive = false;
      left.next = right.next;
      if (left.next >= 0) s[static_cast<std::size_t>(left.next)].prev = top.pos;
      if (left.prev >= 0) push_candidate(queue, s, left.prev);
      push_candidate(queue, s, top.pos);
    }
  }

  Vocab vocab_;
  BpeOptions o_;
  std::optional<std::int32_t> unk_id_;
  std::unordered_map<std::uint64_t, MergeTarget> merges_;
  std::int32_t byte_ids_[256] = {};
};

}  // namespace

std::unique_ptr<Model> make_bpe(Vocab vocab, const MergeList& merges, BpeOptions options, const std::string& ctx) {
  return std::make_unique<Bpe>(std::move(vocab), merges, std::move(options), ctx);
}

}  // namespace strata::text

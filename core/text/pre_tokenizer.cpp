#include "core/text/pre_tokenizer.h"

#include <algorithm>
#include <functional>

#include "core/text/byte_level.h"
#include "core/util/json_access.h"
#include "core/text/regex.h"
#include "core/text/unicode.h"
#include "core/text/utf8.h"
#include "core/util/error.h"

namespace strata::text {
namespace {

using Ranges = std::vector<std::pair<std::size_t, std::size_t>>;

struct Segment {
  std::size_t begin, end;
  bool is_match;
};

// The whole text as alternating match / non-match segments.
std::vector<Segment> segments_of(std::size_t size, const Ranges& matches, bool invert) {
  std::vector<Segment> segs;
  std::size_t last = 0;
  for (const auto& [b, e] : matches) {
    if (b > last) segs.push_back({last, b, invert});
    if (e > b) segs.push_back({b, e, !invert});
    last = e;
  }
  if (last < size) segs.push_back({last, size, invert});
  return segs;
}

// Each character satisfying `pred` is one match.
Ranges char_matches(std::string_view text, const std::function<bool(char32_t)>& pred) {
  Ranges out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t b = i;
    if (pred(next_code_point(text, i))) out.emplace_back(b, i);
  }
  return out;
}

Ranges literal_matches(std::string_view text, std::string_view literal) {
  Ranges out;
  if (literal.empty()) return out;
  for (std::size_t p = text.find(literal); p != std::string_view::npos; p = text.find(literal, p + literal.size()))
    out.emplace_back(p, p + literal.size());
  return out;
}

// Applies `cut` to every piece: it may rewrite the piece's text and returns the byte ranges
// of its sub-pieces. A sub-piece still starts the text only if it begins at byte 0.
template <typename Cut>
void split_pieces(std::vector<Piece>& pieces, Cut cut) {
  std::vector<Piece> out;
  out.reserve(pieces.size() * 2);
  for (auto& p : pieces) {
    const Ranges ranges = cut(p);
    for (const auto& [b, e] : ranges)
      if (e > b) out.push_back({p.text.substr(b, e - b), p.at_text_start && b == 0});
  }
  pieces = std::move(out);
}

Ranges whole(const std::string& text) { return {{0, text.size()}}; }

class BertPreTokenizer final : public PreTokenizer {
 public:
  void apply(std::vector<Piece>& pieces) const override {
    split_pieces(pieces, [](const Piece& p) {
      return split_ranges(p.text.size(), char_matches(p.text, is_whitespace), SplitBehavior::removed, false);
    });
    split_pieces(pieces, [](const Piece& p) {
      return split_ranges(p.text.size(), char_matches(p.text, is_punctuation), SplitBehavior::isolated, false);
    });
  }
};

class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space),
        regex_(use_regex ? std::make_unique<Regex>(kGpt2Pattern, "ByteLevel") : nullptr) {}
  void apply(std::vector<Piece>& pieces) const override {
    split_pieces(pieces, [this](Piece& p) {
      if (add_prefix_space_ && (p.text.empty() || p.text[0] != ' ')) p.text.insert(0, 1, ' ');
      if (!regex_) return whole(p.text);
      return split_ranges(p.text.size(), regex_->find_all(p.text), SplitBehavior::isolated, false);
    });
    for (auto& p : pieces) p.text = bytes_to_mapped_text(p.text);
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

class SplitPreTokenizer final : public PreTokenizer {
 public:
  SplitPreTokenizer(std::string literal, std::unique_ptr<Regex> regex, SplitBehavior b, bool invert)
      : literal_(std::move(literal)), regex_(std::move(regex)), behavior_(b), invert_(invert) {}
  void apply(std::vector<Piece>& pieces) const override {
    split_pieces(pieces, [this](const Piece& p) {
      const Ranges m = regex_ ? regex_->find_all(p.text) : literal_matches(p.text, literal_);
      return split_ranges(p.text.size(), m, behavior_, invert_);
    });
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;
  SplitBehavior behavior_;
  bool invert_;
};

enum class PrependScheme { always, first, never };

class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void apply(std::vector<Piece>& pieces) const override {
    split_pieces(pieces, [this](Piece& p) {
      std::string s;
      for (char c : p.text) {
        if (c == ' ') s += replacement_; else s.push_back(c);
      }
      const bool starts = s.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts && (scheme_ == PrependScheme::always || (scheme_ == PrependScheme::first && p.at_text_start)))
        s.insert(0, replacement_);
      p.text = std::move(s);
      if (!split_) return whole(p.text);
      return split_ranges(p.text.size(), literal_matches(p.text, replacement_), SplitBehavior::merged_with_next, false);
    });
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

class CharSplitPreTokenizer final : public PreTokenizer {
 public:
  CharSplitPreTokenizer(std::function<bool(char32_t)> pred, SplitBehavior b) : pred_(std::move(pred)), behavior_(b) {}
  void apply(std::vector<Piece>& pieces) const override {
    split_pieces(pieces, [this](const Piece& p) {
      return split_ranges(p.text.size(), char_matches(p.text, pred_), behavior_, false);
    });
  }

 private:
  std::function<bool(char32_t)> pred_;
  SplitBehavior behavior_;
};

// `tokenizers`' Whitespace keeps the matches of \w+|[^\w\s]+ and drops the rest.
class WhitespacePreTokenizer final : public PreTokenizer {
 public:
  WhitespacePreTokenizer() : regex_(R"(\w+|[^\w\s]+)", "Whitespace") {}
  void apply(std::vector<Piece>& pieces) const override {
    split_pieces(pieces, [this](const Piece& p) {
      return split_ranges(p.text.size(), regex_.find_all(p.text), SplitBehavior::removed, true);
    });
  }

 private:
  Regex regex_;
};

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void apply(std::vector<Piece>& pieces) const override {
    for (const auto& s : steps_) if (s) s->apply(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

SplitBehavior parse_behavior(const nlohmann::json& j, const std::string& ctx, SplitBehavior fallback) {
  const auto name = get_optional_string(j, "behavior", ctx);
  if (!name) return fallback;
  if (*name == "Removed") return SplitBehavior::removed;
  if (*name == "Isolated") return SplitBehavior::isolated;
  if (*name == "MergedWithPrevious") return SplitBehavior::merged_with_previous;
  if (*name == "MergedWithNext") return SplitBehavior::merged_with_next;
  if (*name == "Contiguous") return SplitBehavior::contiguous;
  fail_input("{}.behavior '{}' is not supported", ctx, *name);
}

std::unique_ptr<PreTokenizer> make_split(const nlohmann::json& j, const std::string& ctx) {
  const auto& pattern = require(j, "pattern", ctx);
  const SplitBehavior b = parse_behavior(j, ctx, SplitBehavior::isolated);
  const bool invert = get_bool(j, "invert", ctx, false);
  if (pattern.contains("String"))
    return std::make_unique<SplitPreTokenizer>(get_string(pattern, "String", ctx + ".pattern"), nullptr, b, invert);
  if (pattern.contains("Regex"))
    return std::make_unique<SplitPreTokenizer>(
        "", std::make_unique<Regex>(get_string(pattern, "Regex", ctx + ".pattern"), ctx + ".pattern"), b, invert);
  fail_input("{}.pattern: expected a 'String' or a 'Regex'", ctx);
}

std::unique_ptr<PreTokenizer> make_metaspace(const nlohmann::json& j, const std::string& ctx) {
  std::string replacement = get_optional_string(j, "replacement", ctx).value_or("\xE2\x96\x81");
  PrependScheme scheme = get_bool(j, "add_prefix_space", ctx, true) ? PrependScheme::always : PrependScheme::never;
  if (const auto s = get_optional_string(j, "prepend_scheme", ctx)) {
    if (*s == "always") scheme = PrependScheme::always;
    else if (*s == "first") scheme = PrependScheme::first;
    else if (*s == "never") scheme = PrependScheme::never;
    else fail_input("{}.prepend_scheme '{}' is not supported", ctx, *s);
  }
  return std::make_unique<MetaspacePreTokenizer>(std::move(replacement), scheme, get_bool(j, "split", ctx, true));
}

}  // namespace

Ranges split_ranges(std::size_t size, const Ranges& matches, SplitBehavior behavior, bool invert) {
  const auto segs = segments_of(size, matches, invert);
  Ranges kept;
  switch (behavior) {
    case SplitBehavior::removed:
      for (const auto& s : segs) if (!s.is_match) kept.emplace_back(s.begin, s.end);
      break;
    case SplitBehavior::isolated:
      for (const auto& s : segs) kept.emplace_back(s.begin, s.end);
      break;
    case SplitBehavior::contiguous: {
      bool prev_match = false;
      for (const auto& s : segs) {
        if (s.is_match && prev_match) kept.back().second = s.end;
        else kept.emplace_back(s.begin, s.end);
        prev_match = s.is_match;
      }
      break;
    }
    case SplitBehavior::merged_with_previous: {
      bool prev_match = false;
      for (const auto& s : segs) {
        if (s.is_match && !prev_match && !kept.empty()) kept.back().second = s.end;
        else kept.emplace_back(s.begin, s.end);
        prev_match = s.is_match;
      }
      break;
    }
    case SplitBehavior::merged_with_next: {
      bool next_match = false;
      for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
        if (it->is_match && !next_match && !kept.empty()) kept.back().first = it->begin;
        else kept.emplace_back(it->begin, it->end);
        next_match = it->is_match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
    }
  }
  std::erase_if(kept, [](const auto& r) { return r.second <= r.first; });
  return kept;
}

std::vector<std::string> split_with_behavior(std::string_view text, const Ranges& matches,
                                             SplitBehavior behavior, bool invert) {
  std::vector<std::string> out;
  for (const auto& [b, e] : split_ranges(text.size(), matches, behavior, invert)) out.emplace_back(text.substr(b, e - b));
  return out;
}

std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer() { return std::make_unique<BertPreTokenizer>(); }

std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex) {
  return std::make_unique<ByteLevelPreTokenizer>(add_prefix_space, use_regex);
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j, const std::string& ctx) {
  if (j.is_null()) return nullptr;
  const std::string type = get_type(j, ctx);
  if (type == "BertPreTokenizer") return make_bert_pre_tokenizer();
  if (type == "ByteLevel")
    return make_byte_level_pre_tokenizer(get_bool(j, "add_prefix_space", ctx, true), get_bool(j, "use_regex", ctx, true));
  if (type == "Split") return make_split(j, ctx);
  if (type == "Metaspace") return make_metaspace(j, ctx);
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  if (type == "WhitespaceSplit")
    return std::make_unique<CharSplitPreTokenizer>(is_whitespace, SplitBehavior::removed);
  if (type == "Punctuation")
    return std::make_unique<CharSplitPreTokenizer>(is_punctuation, parse_behavior(j, ctx, SplitBehavior::isolated));
  if (type == "Digits")
    return std::make_unique<CharSplitPreTokenizer>(
        is_numeric_digit, get_bool(j, "individual_digits", ctx, false) ? SplitBehavior::isolated : SplitBehavior::contiguous);
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    const auto& list = require_array(j, "pretokenizers", ctx);
    for (std::size_t k = 0; k < list.size(); ++k)
      steps.push_back(make_pre_tokenizer(list[k], ctx + ".pretokenizers[" + std::to_string(k) + "]"));
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  fail_input("{}.type '{}' is not supported", ctx, type);
}

}  // namespace strata::text

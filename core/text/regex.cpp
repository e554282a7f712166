#include "core/text/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/util/error.h"

namespace strata::text {

struct Regex::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

namespace {

// The White_Space property, as ranges for a character class body.
constexpr std::string_view kWhiteSpaceBody =
    "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
    "\\x{202F}\\x{205F}\\x{3000}";

// Oniguruma's Unicode \w: letters, marks, decimal digits and connector punctuation (PCRE2's
// leaves out the marks, which splits decomposed accents off their letters).
constexpr std::string_view kWordBody = "\\p{L}\\p{M}\\p{Nd}\\p{Pc}";

struct MatchData {
  pcre2_match_data* md;
  explicit MatchData(const pcre2_code* code) : md(pcre2_match_data_create_from_pattern(code, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(md); }
  MatchData(const MatchData&) = delete;
  MatchData& operator=(const MatchData&) = delete;
};

}  // namespace

std::string oniguruma_compatible(std::string_view p) {
  std::string out;
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char n = p[i + 1];
      const std::string_view body = n == 's' || n == 'S' ? kWhiteSpaceBody : kWordBody;
      if (n == 's' || n == 'w') {
        out += in_class ? std::string(body) : "[" + std::string(body) + "]";
      } else if ((n == 'S' || n == 'W') && !in_class) {
        out += "[^" + std::string(body) + "]";
      } else {
        out += c;
        out += n;
      }
      ++i;
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member, not the end of the class.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

Regex::Regex(std::string_view pattern, std::string_view context)
    : pattern_(pattern), code_(std::make_unique<Code>()) {
  const std::string translated = oniguruma_compatible(pattern);
  int err = 0;
  PCRE2_SIZE offset = 0;
  code_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                              PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
  if (code_->code == nullptr) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    fail_input("{}: invalid regex '{}' at offset {}: {}", context, pattern, offset,
               reinterpret_cast<const char*>(msg));
  }
  // JIT is an optimisation only: when unavailable, the interpreter gives the same matches.
  pcre2_jit_compile(code_->code, PCRE2_JIT_COMPLETE);
}

Regex::~Regex() = default;

std::vector<std::pair<std::size_t, std::size_t>> Regex::find_all(std::string_view text) const {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  MatchData data(code_->code);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::size_t start = 0;
  while (start <= text.size()) {
    const int rc = pcre2_match(code_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                               data.md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    // A pattern of a tokenizer file that backtracks without end hits PCRE2's match limit: the
    // file is at fault, not the run.
    if (rc < 0) fail_input("regex '{}' failed on a text (PCRE2 error {}: a pattern that backtracks too much?)", pattern_, rc);
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data.md);
    const std::size_t b = ov[0], e = ov[1];
    if (e > b) {
      out.emplace_back(b, e);
      start = e;
    } else {
      // Empty match: step over one whole character so the search moves on.
      if (b >= text.size()) break;
      std::size_t next = b + 1;
      while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80) ++next;
      start = next;
    }
  }
  return out;
}

}  // namespace strata::text

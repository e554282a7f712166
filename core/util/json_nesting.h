#pragma once
// JSON from files strata does not control is checked for its nesting before it is parsed:
// nlohmann's parser takes any depth, but copying, comparing or printing a value nested some
// 100,000 levels deep recurses once per level and overflows the stack.
#include <cstddef>
#include <string>
#include <string_view>

#include "core/util/error.h"

namespace strata {

// Real files nest a handful of levels (a tokenizer.json about six).
inline constexpr int kMaxJsonNesting = 128;

// Throws InputError "<where>: JSON nested deeper than 128 levels (byte N)" when `text` opens
// more arrays and objects than that without closing them (strings are skipped).
inline void check_json_nesting(std::string_view text, const std::string& where) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonNesting)
        fail_input("{}: JSON nested deeper than {} levels (byte {})", where, kMaxJsonNesting, i);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

}  // namespace strata

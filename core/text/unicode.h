#pragma once
// Character classes and normal forms with the definitions Hugging Face `tokenizers` uses
// (Rust's char methods and the unicode_categories crate), over utf8proc's tables.
#include <string>
#include <string_view>

namespace strata::text {

bool is_whitespace(char32_t c);           // Rust char::is_whitespace (White_Space property)
bool is_bert_control(char32_t c);         // categories C* except \t \n \r
bool is_punctuation(char32_t c);          // ASCII punctuation or categories P*
bool is_cjk_ideograph(char32_t c);        // BERT's "Chinese character" blocks
bool is_nonspacing_mark(char32_t c);      // Mn
bool is_mark(char32_t c);                 // Mn, Mc, Me
bool is_numeric_digit(char32_t c);        // N* (Rust char::is_numeric)
bool is_regex_word_char(char32_t c);      // Unicode \w: letters, marks, Nd, Nl, Pc, joiners

// Lower-cases every character with its full Unicode mapping, character by character.
std::string lowercase(std::string_view s);

enum class NormalForm { nfc, nfd, nfkc, nfkd };
std::string normalize_form(std::string_view s, NormalForm form);

}  // namespace strata::text

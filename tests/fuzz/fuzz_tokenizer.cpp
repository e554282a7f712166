// tokenizer.json, then the tokenising of arbitrary bytes: the input's first line is the file, the
// rest the text (so one corpus entry exercises both).
#include <algorithm>
#include <string_view>

#include "core/text/tokenizer.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = std::min(all.find('\n'), all.size());
  const strata::fuzz::InputFile in(data, cut, "tokenizer.json");
  return strata::fuzz::refuse_or_accept([&] {
    const auto tok = strata::text::Tokenizer::from_json_file(in.path());
    const std::string_view text = cut < all.size() ? all.substr(cut + 1) : std::string_view();
    (void)tok.encode(text, true, 0);
    (void)tok.encode(text, true, 8);
  });
}

// The corpus table readers (JSONL, CSV, TSV): the input's first byte picks the format.
#include "core/data/corpus_readers.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const char* kNames[] = {"t.jsonl", "t.csv", "t.tsv"};
  const strata::fuzz::InputFile in(data + 1, size - 1, kNames[data[0] % 3]);
  return strata::fuzz::refuse_or_accept([&] { (void)strata::read_corpus_table(in.path()); });
}

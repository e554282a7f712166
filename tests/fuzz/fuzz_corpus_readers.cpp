// Every dataset reader: the generic tables (JSONL, CSV, TSV) and the six release formats, each
// laid out as its release is (a file, or a folder of files). The input's first byte picks the
// reader; a release of two files (rt-polarity, tweet-eval) takes the parts before and after the
// first "\n@@\n".
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "core/data/corpus_readers.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, std::string_view bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::pair<std::string_view, std::string_view> halves(std::string_view s) {
  const auto at = s.find("\n@@\n");
  return at == std::string_view::npos ? std::pair{s, std::string_view()} : std::pair{s.substr(0, at), s.substr(at + 4)};
}

// Lays `body` out as `format`'s release below `dir` and returns the source reading it.
strata::SourceSpec layout(int format, std::string_view body, const fs::path& dir) {
  strata::SourceSpec s;
  s.name = "fuzz";
  s.path = dir;
  const auto [first, second] = halves(body);
  switch (format) {
    case 0: s.format = "jsonl"; s.path = dir / "t.jsonl"; write(s.path, body); break;
    case 1: s.format = "csv"; s.path = dir / "t.csv"; write(s.path, body); break;
    case 2: s.format = "tsv"; s.path = dir / "t.tsv"; write(s.path, body); break;
    case 3: s.format = "amazon-polarity-csv"; s.path = dir / "train.csv"; write(s.path, body); break;
    case 4: s.format = "ag-news-csv"; s.path = dir / "train.csv"; write(s.path, body); break;
    case 5: s.format = "glue-sst2-tsv"; write(dir / "train.tsv", body); break;
    case 6: s.format = "rt-polarity"; s.split = "all"; write(dir / "rt-polarity.pos", first); write(dir / "rt-polarity.neg", second); break;
    case 7: s.format = "tweet-eval"; write(dir / "train_text.txt", first); write(dir / "train_labels.txt", second); break;
    default:
      // aclImdb: one review under a name made of the input's first line (its digits, '_' and
      // letters: the reader parses "ID_RATING.txt").
      s.format = "aclimdb";
      std::string name;
      for (char c : first.substr(0, 40))
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') name += c;
      write(dir / "train" / "neg" / "0_1.txt", second);
      write(dir / "train" / "pos" / (name + ".txt"), second);
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const int format = data[0] % 10;
  const strata::fuzz::InputFile marker(data, 0, "marker");  // the input's own folder
  const fs::path dir = marker.dir() / "release";
  std::error_code ec;
  fs::remove_all(dir, ec);
  strata::fuzz::refuse_or_accept([&] {
    if (format == 9) {  // a table aligned with imported vectors
      write(dir / "t.jsonl", body);
      (void)strata::read_corpus_table(dir / "t.jsonl");
      return;
    }
    (void)strata::read_source(layout(format, body, dir));
  });
  fs::remove_all(dir, ec);
  return 0;
}

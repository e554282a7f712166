// tokenize_dump TOKENIZER_DIR_OR_JSON INPUT [--max-length N] [--no-special] [--threads T]
//               [--bench REPEATS] [--info]
// INPUT holds one text per line, base64-encoded, so texts may hold any bytes (newlines,
// invalid UTF-8). Prints one JSON array of ids per text; --bench instead times encoding
// only and prints {"texts", "tokens", "seconds"}; --info prints pad id, vocab size and hash.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/text/tokenizer.h"
#include "core/util/error.h"

namespace {

std::string base64_decode(const std::string& in, std::size_t line) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=' || c == '\r') break;
    const auto v = alphabet.find(c);
    if (v == std::string::npos) strata::fail_input("line {}: not base64", line);
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

std::vector<std::string> read_texts(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) strata::fail_input("{}: cannot open the file", path);
  std::vector<std::string> texts;
  for (std::string line; std::getline(in, line);) texts.push_back(base64_decode(line, texts.size() + 1));
  return texts;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Tokenize base64 lines with strata::text::Tokenizer"};
  std::string tokenizer_path, input;
  std::size_t max_length = 0;
  bool no_special = false, info = false;
  int threads = 1, bench = 0;
  app.add_option("tokenizer", tokenizer_path, "snapshot folder or tokenizer.json")->required();
  app.add_option("input", input, "file of base64 texts, one per line");
  app.add_option("--max-length", max_length, "truncate to this many ids (0: no truncation)");
  app.add_flag("--no-special", no_special, "do not add the template's special tokens");
  app.add_option("--threads", threads, "encode_batch threads");
  app.add_option("--bench", bench, "time this many passes over the texts instead of printing ids");
  app.add_flag("--info", info, "print pad id, vocabulary size and hash");
  CLI11_PARSE(app, argc, argv);
  try {
    const auto tok = strata::text::Tokenizer::from_dir(tokenizer_path);
    if (info) {
      nlohmann::json j = {{"vocab_size", tok.vocab_size()}, {"hash", tok.hash()}, {"pad_id", nullptr}};
      if (const auto pad = tok.pad_id()) j["pad_id"] = *pad;
      std::cout << j.dump() << "\n";
      return 0;
    }
    const auto texts = read_texts(input);
    if (bench > 0) {
      std::size_t tokens = 0;
      const auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < bench; ++r)
        for (const auto& ids : tok.encode_batch(texts, !no_special, max_length, threads)) tokens += ids.size();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::cout << nlohmann::json{{"texts", texts.size() * static_cast<std::size_t>(bench)}, {"tokens", tokens}, {"seconds", s}}.dump()
                << "\n";
      return 0;
    }
    std::string out;
    for (const auto& ids : tok.encode_batch(texts, !no_special, max_length, threads)) {
      out += nlohmann::json(ids).dump();
      out += '\n';
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  } catch (const strata::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}

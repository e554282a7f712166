// encode_dump --model DIR (--ids FILE | --texts FILE) --out PREFIX [--pooling mean,last,...]
//             [--dtype fp32] [--device cpu] [--pad-id N] [--batch-size 64] [--max-tokens 512]
//             [--max-batch-tokens N] [--normalize] [--no-sort] [--threads T] [--bench] [--hash]
// Embeds rows with strata's encoders and writes PREFIX.<pooling>.npy ([N, H] float32) for each
// pooling asked for. --ids: one row of space-separated token ids per line. --texts: one text
// per line, tokenised with the snapshot's tokenizer. --bench times embedding only: an untimed
// warm-up pass over the rows, then a timed second pass; it prints {"rows", "tokens",
// "seconds", "tokens_per_s", "first_pass_seconds"} and, with --out, writes the first
// pooling's embeddings. --hash prints the weights hash.
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <c10/cuda/CUDACachingAllocator.h>
#include <nlohmann/json.hpp>

#include "core/io/npy.h"
#include "core/nn/embed_spec.h"
#include "core/nn/encoder.h"
#include "core/text/tokenizer.h"
#include "core/util/error.h"

namespace {

std::vector<std::vector<std::int32_t>> read_ids(const std::string& path) {
  std::ifstream in(path);
  if (!in) strata::fail_input("{}: cannot open", path);
  std::vector<std::vector<std::int32_t>> rows;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::vector<std::int32_t> row;
    for (long long v; fields >> v;) row.push_back(static_cast<std::int32_t>(v));
    if (!fields.eof()) strata::fail_input("{}: line {} is not a list of integers", path, rows.size() + 1);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) strata::fail_input("{}: cannot open", path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

std::int64_t count_tokens(const std::vector<std::vector<std::int32_t>>& rows, std::int64_t limit) {
  std::int64_t n = 0;
  for (const auto& r : rows) n += std::min<std::int64_t>(static_cast<std::int64_t>(r.size()), limit);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Embed token ids or texts with a strata encoder"};
  std::string model, ids_file, texts_file, out, poolings = "mean", dtype = "fp32", device_name = "cpu", layers;
  int pad_id = 0, threads = 0;
  std::int64_t batch_size = 64, max_tokens = 512, max_batch_tokens = 0;
  bool normalize = false, no_sort = false, bench = false, hash = false;
  app.add_option("--model", model)->required();
  app.add_option("--ids", ids_file);
  app.add_option("--texts", texts_file);
  app.add_option("--out", out);
  app.add_option("--pooling", poolings);
  app.add_option("--dtype", dtype);
  app.add_option("--device", device_name);
  app.add_option("--pad-id", pad_id);
  app.add_option("--batch-size", batch_size);
  app.add_option("--max-tokens", max_tokens);
  app.add_option("--max-batch-tokens", max_batch_tokens);
  app.add_option("--threads", threads);
  app.add_option("--layers", layers, "hidden states computed in the same pass: all, or comma-separated indices "
                                     "(the first one's rows are written)");
  app.add_flag("--normalize", normalize);
  app.add_flag("--no-sort", no_sort);
  app.add_flag("--bench", bench);
  app.add_flag("--hash", hash);
  CLI11_PARSE(app, argc, argv);

  try {
    if (threads > 0) torch::set_num_threads(threads);
    if (hash) {
      std::cout << strata::nn::weights_hash(model) << "\n";
      return 0;
    }
    const torch::Device device(device_name);
    auto enc = strata::nn::load_encoder(model, dtype, device);

    std::vector<std::vector<std::int32_t>> rows;
    std::optional<strata::text::Tokenizer> tok;
    std::vector<std::string> texts;
    if (!texts_file.empty()) {
      tok = strata::text::Tokenizer::from_dir(model);
      texts = read_lines(texts_file);
    } else {
      rows = read_ids(ids_file);
    }

    strata::nn::EmbedOptions opt;
    opt.dtype = dtype;
    opt.batch_size = batch_size;
    opt.max_tokens = max_tokens;
    opt.max_batch_tokens = max_batch_tokens;
    opt.normalize = normalize;
    opt.sort_by_length = !no_sort;
    strata::nn::LayerSelection chosen;
    if (layers == "all") chosen.all = true;
    for (const auto& k : layers == "all" ? std::vector<std::string>{} : split_commas(layers)) chosen.indices.push_back(std::stoll(k));
    opt.layers = chosen.resolve(enc->num_layers());
    const auto embed = [&](const strata::nn::EmbedOptions& o) {
      if (tok) return strata::nn::embed_texts(*enc, *tok, texts, o, device).layers.front();
      return strata::nn::embed_rows(*enc, rows, pad_id, o, device).layers.front();
    };

    if (bench) {
      opt.pooling = split_commas(poolings).front();
      // Warm-up: one full untimed pass, so every batch shape has met its kernels and its
      // allocator blocks once before the timed pass.
      auto t0 = std::chrono::steady_clock::now();
      embed(opt);
      if (device.is_cuda()) {
        torch::cuda::synchronize();
        c10::cuda::CUDACachingAllocator::resetPeakStats(device.has_index() ? device.index() : 0);
      }
      const double first_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      t0 = std::chrono::steady_clock::now();
      const torch::Tensor e = embed(opt);  // returns on the CPU: the work is complete
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const std::int64_t limit = std::min(max_tokens, enc->max_positions());
      const std::int64_t tokens =
          tok ? count_tokens(tok->encode_batch(texts, true, static_cast<std::size_t>(limit)), limit)
              : count_tokens(rows, limit);
      nlohmann::json r{{"rows", e.size(0)}, {"tokens", tokens}, {"seconds", seconds}, {"layers", opt.layers.size()},
                       {"tokens_per_s", static_cast<double>(tokens) / seconds},
                       {"first_pass_seconds", first_seconds}};
      if (device.is_cuda())
        r["peak_gpu_bytes"] = c10::cuda::CUDACachingAllocator::getDeviceStats(device.has_index() ? device.index() : 0)
                                  .allocated_bytes[0].peak;
      std::cout << r.dump() << "\n";
      if (!out.empty()) strata::io::write_npy(out + "." + opt.pooling + ".npy", e);
      return 0;
    }

    if (out.empty()) strata::fail_input("--out is required unless --bench or --hash is given");
    for (const auto& p : split_commas(poolings)) {
      strata::nn::EmbedOptions o = opt;
      o.pooling = p;
      strata::io::write_npy(out + "." + p + ".npy", embed(o));
    }
    return 0;
  } catch (const strata::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

#pragma once
// Verbs of the CLI that stand alone (outside a sweep).
#include <CLI/CLI.hpp>

#include <string>

namespace strata::cli {

struct EmbedArgs {
  std::string model, corpus, output, name, pooling = "mean", dtype = "fp32", device = "auto";
  std::int64_t max_tokens = 512, batch_size = 64, batch_tokens = 8192;
  bool normalize = false;
};

// `strata embed --model DIR --corpus FILE -o ARCHIVE`: embeddings of a corpus table.
void add_embed_command(CLI::App& app, EmbedArgs& a);
int run_embed_command(const EmbedArgs& a);

struct ExportArgs {
  std::string archive, out, format = "csv";
};

// `strata export ARCHIVE -o DIR [--format csv|parquet]`: an archive's tables as files.
void add_export_command(CLI::App& app, ExportArgs& a);
int run_export_command(const ExportArgs& a);

}  // namespace strata::cli

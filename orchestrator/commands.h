#pragma once
// Verbs of the CLI that stand alone (outside a sweep).
#include <CLI/CLI.hpp>

#include <string>

#include "core/nn/embed_spec.h"

namespace strata::cli {

struct EmbedArgs {
  std::string corpus, output, device = "auto";
  nn::EmbedSpec model;  // --model and the [[model]] settings, with the same defaults as a sweep's
};

// `strata embed --model DIR --corpus FILE -o ARCHIVE`: embeddings of a corpus table. Its corpus
// and embedding get the ids a sweep with `table = FILE` and the same [[model]] gives them, so
// either can continue the other's archive.
void add_embed_command(CLI::App& app, EmbedArgs& a);
int run_embed_command(const EmbedArgs& a);

struct ExportArgs {
  std::string archive, out, format = "csv";
};

// `strata export ARCHIVE -o DIR [--format csv|parquet]`: an archive's tables as files.
void add_export_command(CLI::App& app, ExportArgs& a);
int run_export_command(const ExportArgs& a);

}  // namespace strata::cli

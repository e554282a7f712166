#include <filesystem>

#include <fmt/ranges.h>

#include "cluster/device.h"
#include "core/nn/pooling.h"
#include "core/util/error.h"
#include "core/util/log.h"
#include "orchestrator/archive.h"
#include "orchestrator/commands.h"
#include "orchestrator/plan.h"
#include "workers/jobs.h"

namespace strata::cli {

void add_embed_command(CLI::App& app, EmbedArgs& a) {
  auto& m = a.model;
  auto* c = app.add_subcommand("embed", "embed a corpus table with one model into an archive");
  c->add_option("--model", m.path, "Hugging Face snapshot folder")->required();
  c->add_option("--corpus", a.corpus, "corpus table: JSONL or CSV with text[,source,label,id]")->required();
  c->add_option("-o,--output", a.output, "archive to write (created, or extended with --model's embeddings)")->required();
  c->add_option("--name", m.name, "embedding name (default: the model folder's name)");
  c->add_option("--pooling", m.pooling)->check(CLI::IsMember(nn::pooling_names()))->capture_default_str();
  c->add_option("--dtype", m.dtype)->check(CLI::IsMember(nn::dtype_names()))->capture_default_str();
  c->add_option("--device", a.device)->check(CLI::IsMember({"cpu", "cuda", "auto"}))->capture_default_str();
  c->add_option("--max-tokens", m.max_tokens)->check(CLI::PositiveNumber)->capture_default_str();
  c->add_option("--batch-size", m.batch_size)->check(CLI::PositiveNumber)->capture_default_str();
  c->add_option("--batch-tokens", m.batch_tokens, "padded tokens per batch at most (0: rows only)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  c->add_flag("--normalize", m.normalize, "L2-normalise the pooled vectors");
}

int run_embed_command(const EmbedArgs& a) {
  nn::EmbedSpec model = a.model;
  model.path = std::filesystem::absolute(model.path).lexically_normal();
  if (model.name.empty()) model.name = model.path.filename().string();
  CorpusSpec spec;
  spec.table = std::filesystem::absolute(a.corpus).lexically_normal();
  const auto corpus = plan::corpus_job(spec);
  const auto embed = plan::embed_job(model, corpus.id);
  if (corpus.inputs_missing) fail_input("{}: no such file (the corpus table)", a.corpus);
  // The checks a sweep's [[model]] meets, with the option names in the message.
  (void)spec::from_json<nn::EmbedSpec>(spec::to_json(embed.spec), "strata embed");
  const Corpus rows = workers::build_corpus(corpus.spec);
  // Created or extended; refused before anything is written, and written only once the embedding is made.
  Archive archive(a.output, true, "");
  archive.check_no_conflict("/corpus", corpus.id, "a corpus");
  const std::string object = "/embeddings/" + embed.name;
  archive.check_no_conflict(object, embed.id, "embeddings");
  if (archive.done(object, embed.id)) {
    log::info("{}: {} is already there", a.output, object);
    return 0;
  }
  const auto p = workers::run_embed(embed.spec, rows, cluster::select_device(a.device));
  if (!archive.done("/corpus", corpus.id))
    archive.commit("/corpus", corpus.id, corpus.config, [&](io::h5::Group& g) { workers::corpus_payload(rows).write(g); });
  archive.commit(object, embed.id, embed.config, [&](io::h5::Group& g) { p.write(g); });
  log::info("{}: wrote {} [{} x {}]", a.output, object, p.tensor("data").size(0), p.tensor("data").size(1));
  return 0;
}

}  // namespace strata::cli

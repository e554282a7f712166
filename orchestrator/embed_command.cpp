#include <filesystem>

#include "cluster/device.h"
#include "core/data/corpus_readers.h"
#include "core/util/error.h"
#include "core/util/log.h"
#include "orchestrator/archive.h"
#include "orchestrator/commands.h"
#include "orchestrator/plan.h"
#include "workers/jobs.h"

namespace strata::cli {

void add_embed_command(CLI::App& app, EmbedArgs& a) {
  auto* c = app.add_subcommand("embed", "embed a corpus table with one model into an archive");
  c->add_option("--model", a.model, "Hugging Face snapshot folder")->required();
  c->add_option("--corpus", a.corpus, "corpus table: JSONL or CSV with text[,source,label,id]")->required();
  c->add_option("-o,--output", a.output, "archive to write (created, or extended with --model's embeddings)")->required();
  c->add_option("--name", a.name, "embedding name (default: the model folder's name)");
  c->add_option("--pooling", a.pooling)->check(CLI::IsMember({"mean", "last", "cls", "mean-with-padding"}));
  c->add_option("--dtype", a.dtype)->check(CLI::IsMember({"fp32", "fp16", "bf16"}));
  c->add_option("--device", a.device)->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  c->add_option("--max-tokens", a.max_tokens)->check(CLI::PositiveNumber);
  c->add_option("--batch-size", a.batch_size)->check(CLI::PositiveNumber);
  c->add_option("--batch-tokens", a.batch_tokens, "padded tokens per batch at most (0: rows only)")
      ->check(CLI::NonNegativeNumber);
  c->add_flag("--normalize", a.normalize, "L2-normalise the pooled vectors");
}

int run_embed_command(const EmbedArgs& a) {
  const Corpus corpus = read_corpus_table(a.corpus);
  workers::EmbedJob job;
  job.kind = "text_model";
  job.model_path = a.model;
  job.pooling = a.pooling;
  job.dtype = a.dtype;
  job.max_tokens = a.max_tokens;
  job.batch_size = a.batch_size;
  job.batch_tokens = a.batch_tokens;
  job.normalize = a.normalize;
  const std::string name = a.name.empty() ? std::filesystem::path(a.model).filename().string() : a.name;
  const nlohmann::json corpus_cfg{{"table", a.corpus}};
  const std::string corpus_id = plan::job_id(corpus_cfg);
  const nlohmann::json cfg{{"corpus", corpus_id}, {"name", name}, {"path", a.model}, {"pooling", a.pooling},
                           {"dtype", a.dtype}, {"max_tokens", a.max_tokens}, {"normalize", a.normalize}};
  const std::string id = plan::job_id(cfg);
  // Created or extended; refused before anything is written, and written only once the embedding is made.
  Archive archive(a.output, true, "");
  archive.check_no_conflict("/corpus", corpus_id, "a corpus");
  const std::string object = "/embeddings/" + name;
  archive.check_no_conflict(object, id, "embeddings");
  if (archive.done(object, id)) {
    log::info("{}: {} is already there", a.output, object);
    return 0;
  }
  const auto p = workers::run_embed(job, corpus, cluster::select_device(a.device));
  if (!archive.done("/corpus", corpus_id))
    archive.commit("/corpus", corpus_id, corpus_cfg,
                   [&](io::h5::Group& g) { workers::corpus_payload(corpus).write(g); });
  archive.commit(object, id, cfg, [&](io::h5::Group& g) { p.write(g); });
  log::info("{}: wrote {} [{} x {}]", a.output, object, p.tensor("data").size(0), p.tensor("data").size(1));
  return 0;
}

}  // namespace strata::cli

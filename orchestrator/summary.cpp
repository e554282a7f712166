#include "orchestrator/summary.h"

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "core/io/h5.h"

namespace strata {

namespace {

using io::h5::Group;

constexpr std::size_t kMaxTables = 8;

std::string num(double v, int prec = 3) { return std::isnan(v) ? "nan" : fmt::format("{:.{}f}", v, prec); }

double scalar(const Group& g, const std::string& name) {
  return g.exists(name) ? g.read(name).to(torch::kFloat64).item<double>() : std::nan("");
}

std::vector<double> vec(const Group& g, const std::string& name) {
  if (!g.exists(name)) return {};
  auto t = g.read(name).to(torch::kFloat64).contiguous();
  return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
}

std::string run_line(const std::string& id, const Group& r) {
  const auto status = r.attr_string("status").value_or("?");
  const auto cfg = nlohmann::json::parse(r.attr_string("config").value_or("{}"), nullptr, false);
  if (status != "done" || cfg.is_discarded())
    return fmt::format("  {} {:<8} {}\n", id, status, r.attr_string("error").value_or(""));
  const auto set = cfg.value("sparsity", std::vector<std::int64_t>{});
  const auto loss = vec(r, "train/loss");
  return fmt::format("  {} {:<6} {:<16} {:>3} {:>3} {:>5} {:<9} {:>10} {:>9} {:>6} {:>6}\n", id, status,
                     r.attr_string("embedding").value_or("?"), cfg.value("strata", 0), set.size(), cfg.value("atoms", 0),
                     cfg.value("gate", std::string("?")), loss.empty() ? "-" : num(loss.back(), 5),
                     num(scalar(r, "analysis/entropy_overall")),
                     num(scalar(r, "analysis/ari_source")), num(scalar(r, "analysis/nmi_source")));
}

std::string tables(const std::string& id, const Group& r) {
  const auto pca = vec(r, "analysis/dims/pca"), twonn = vec(r, "analysis/dims/twonn"), mle = vec(r, "analysis/dims/mle");
  const auto ws = vec(r, "analysis/weighted_sparsity");
  const auto sizes = vec(r, "analysis/sizes");
  std::string out = fmt::format("\nrun {} ({}, {} strata)\n", id, r.attr_string("embedding").value_or("?"), pca.size());
  out += "  stratum  points | Table 1: intrinsic dimension   | Table 2: weighted sparsity\n";
  out += "                  |   PCA-75%   TwoNN     MLE      |\n";
  for (std::size_t s = 0; s < pca.size(); ++s)
    out += fmt::format("  {:>7} {:>7} | {:>9} {:>7} {:>7}      | {:>10}\n", s, sizes.empty() ? 0 : static_cast<long>(sizes[s]),
                       num(pca[s], 0), num(twonn[s], 2), num(mle[s], 2), s < ws.size() ? num(ws[s], 4) : "-");
  return out;
}

}  // namespace

std::string summarize_archive(const std::filesystem::path& archive, bool with_tables) {
  io::h5::File f(archive, io::h5::File::Mode::read);
  const auto root = f.root();
  std::string out = fmt::format("archive {}\n", archive.string());
  out += fmt::format("  written by strata {}\n", root.attr_string("program_version").value_or("?"));
  if (root.exists("corpus/text")) {
    const auto names = root.exists("corpus/source_names") ? root.read_strings("corpus/source_names") : std::vector<std::string>{};
    out += fmt::format("corpus: {} rows from {} sources ({})\n", root.shape("corpus/text")[0], names.size(),
                       fmt::join(names, ", "));
  }
  if (root.exists("embeddings")) {
    const auto emb = root.open("embeddings");
    for (const auto& name : emb.children()) {
      const auto g = emb.open(name);
      if (!g.exists("data")) {
        out += fmt::format("embeddings {}: {}\n", name, g.attr_string("status").value_or("?"));
        continue;
      }
      const auto shape = g.shape("data");
      out += fmt::format("embeddings {}: {} x {}\n", name, shape[0], shape[1]);
    }
  }
  std::vector<std::string> done;
  if (root.exists("runs")) {
    const auto runs = root.open("runs");
    const auto ids = runs.children();
    out += fmt::format("runs: {}\n", ids.size());
    out += fmt::format("  {:<16} {:<6} {:<16} {:>3} {:>3} {:>5} {:<9} {:>10} {:>9} {:>6} {:>6}\n", "id", "status",
                       "embedding", "S", "E", "atoms", "gate", "loss", "entropy", "ARI", "NMI");
    for (const auto& id : ids) {
      const auto r = runs.open(id);
      out += run_line(id, r);
      if (r.attr_string("status").value_or("") == "done") done.push_back(id);
    }
  }
  if (with_tables && !done.empty()) {
    const auto runs = root.open("runs");
    for (std::size_t i = 0; i < done.size() && i < kMaxTables; ++i) out += tables(done[i], runs.open(done[i]));
    if (done.size() > kMaxTables)
      out += fmt::format("\n({} more runs: see `strata report {}`)\n", done.size() - kMaxTables, archive.string());
  }
  return out;
}

}  // namespace strata

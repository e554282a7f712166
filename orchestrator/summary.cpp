#include "orchestrator/summary.h"

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <map>

#include <algorithm>

#include "core/analysis/id_estimators.h"
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

// A result whose input was computed again since (input_jobs names another job than the input
// now holds) is stale: what it says is about data the archive no longer has.
std::string stale_because(const Group& root, const Group& r) {
  const auto inputs = nlohmann::json::parse(r.attr_string("input_jobs").value_or("{}"), nullptr, false);
  if (!inputs.is_object()) return "";
  for (const auto& [object, id] : inputs.items()) {
    const std::string rel = object.empty() ? object : object.substr(1);
    const std::string now = root.exists(rel) ? root.open(rel).attr_string("job_id").value_or("") : "";
    const std::string was = id.is_string() ? id.get<std::string>() : "?";
    if (now != was) return fmt::format("made from {} (job {}), which now holds job {}", object, was, now.empty() ? "none" : now);
  }
  return "";
}

std::string status_of(const Group& root, const Group& r) {
  const auto status = r.attr_string("status").value_or("?");
  return status == "done" && !stale_because(root, r).empty() ? "stale" : status;
}

std::string run_line(const Group& root, const std::string& id, const Group& r) {
  const auto status = status_of(root, r);
  const auto cfg = nlohmann::json::parse(r.attr_string("config").value_or("{}"), nullptr, false);
  if (status == "stale") return fmt::format("  {} {:<8} {}\n", id, status, stale_because(root, r));
  if (status != "done" || cfg.is_discarded())
    return fmt::format("  {} {:<8} {}\n", id, status, r.attr_string("error").value_or(""));
  const auto set = cfg.value("sparsity", std::vector<std::int64_t>{});
  const auto loss = vec(r, "train/loss");
  const auto readout = r.attr_string("readout").value_or("");
  return fmt::format("  {} {:<6} {:<16} {:>3} {:>3} {:>5} {:>6} {:<9} {:>10} {:>9} {:>6} {:>6}  {}\n", id, status,
                     r.attr_string("embedding").value_or("?"), cfg.value("strata", 0), set.size(), cfg.value("atoms", 0),
                     cfg.value("seed", 0), cfg.value("gate", std::string("?")), loss.empty() ? "-" : num(loss.back(), 5),
                     num(scalar(r, "analysis/entropy_overall")), num(scalar(r, "analysis/ari_source")),
                     num(scalar(r, "analysis/nmi_source")), readout.empty() ? "-" : readout);
}

// The runs that differ only in their training seed, by their other settings.
std::string without_seed(const nlohmann::json& cfg) {
  auto c = cfg;
  for (const char* k : {"seed", "train", "embed", "fingerprint"}) c.erase(k);
  return c.dump();
}

// On synthetic spaces: every readout's Spearman rho against the strata's true dimensions, the
// mean (and range) over the training seeds of each configuration.
std::string ground_truth(const Group& runs, const std::vector<std::string>& done) {
  struct Row {
    std::string label;
    std::map<std::string, std::vector<double>> rho;
  };
  std::map<std::string, Row> groups;
  for (const auto& id : done) {
    const auto r = runs.open(id);
    if (!r.exists("analysis/truth/spearman")) continue;
    const auto cfg = nlohmann::json::parse(r.attr_string("config").value_or("{}"), nullptr, false);
    if (cfg.is_discarded()) continue;
    auto& row = groups[without_seed(cfg)];
    row.label = fmt::format("{} S={} atoms={} sparsity_cost={}", r.attr_string("embedding").value_or("?"),
                            cfg.value("strata", 0), cfg.value("atoms", 0), cfg.value("sparsity_cost", 0.0));
    for (const char* kind : {"dims", "matched"}) {
      const std::string at = std::string("analysis/truth/spearman/") + kind;
      if (!r.exists(at)) continue;
      for (const auto& name : r.open(at).children()) row.rho[std::string(kind) + "/" + name].push_back(scalar(r, at + "/" + name));
    }
    if (r.exists("analysis/truth/spearman/weighted_sparsity"))
      row.rho["weighted_sparsity"].push_back(scalar(r, "analysis/truth/spearman/weighted_sparsity"));
  }
  if (groups.empty()) return "";
  std::string out = "\nground truth (synthetic strata): Spearman rho of each readout against the true dimension,\n"
                    "mean over training seeds [min, max]\n";
  for (const auto& [key, row] : groups) {
    out += "  " + row.label + "\n";
    for (const auto& [name, v] : row.rho) {
      double sum = 0, lo = 2, hi = -2;
      std::size_t n = 0;
      for (double x : v)
        if (!std::isnan(x)) sum += x, lo = std::min(lo, x), hi = std::max(hi, x), ++n;
      out += n == 0 ? fmt::format("    {:<22} nan ({} seeds)\n", name, v.size())
                    : fmt::format("    {:<22} {:+.2f} [{:+.2f}, {:+.2f}] over {} seed(s)\n", name, sum / n, lo, hi, n);
    }
  }
  return out;
}

// The estimators a run holds under analysis/dims, in the order of the estimator table, then
// any others (an archive from a build with more).
std::vector<std::string> dims_of(const Group& r) {
  if (!r.exists("analysis/dims")) return {};
  const auto present = r.open("analysis/dims").children();
  std::vector<std::string> out;
  for (const auto& e : analysis::id_estimators())
    if (std::find(present.begin(), present.end(), e.name) != present.end()) out.push_back(e.name);
  for (const auto& name : present)
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  return out;
}

std::string tables(const std::string& id, const Group& r) {
  const auto names = dims_of(r);
  std::vector<std::vector<double>> dims;
  for (const auto& n : names) dims.push_back(vec(r, "analysis/dims/" + n));
  const auto ws = vec(r, "analysis/weighted_sparsity");
  const auto sizes = vec(r, "analysis/sizes");
  const std::size_t S = sizes.size();
  std::string out = fmt::format("\nrun {} ({}, {} strata)\n", id, r.attr_string("embedding").value_or("?"), S);
  out += fmt::format("  stratum  points | Table 1: intrinsic dimension{} | Table 2: weighted sparsity\n",
                     std::string(names.size() * 9 > 28 ? names.size() * 9 - 28 : 0, ' '));
  std::string head = "                  |";
  for (const auto& n : names) head += fmt::format(" {:>8}", n);
  out += head + " |\n";
  for (std::size_t s = 0; s < S; ++s) {
    std::string line = fmt::format("  {:>7} {:>7} |", s, static_cast<long>(sizes[s]));
    for (std::size_t k = 0; k < names.size(); ++k)
      line += fmt::format(" {:>8}", s < dims[k].size() ? num(dims[k][s], names[k] == "pca" ? 0 : 2) : "-");
    out += line + fmt::format(" | {:>10}\n", s < ws.size() ? num(ws[s], 4) : "-");
  }
  return out;
}

// How many runs' Table 2 can be read, and trained models without a sparsity constraint.
std::string health(const Group& root, const std::vector<std::string>& done) {
  std::map<std::string, int> why;
  int flagged = 0;
  for (const auto& id : done) {
    const auto readout = root.open("runs").open(id).attr_string("readout").value_or("");
    if (readout.rfind("not informative", 0) != 0) continue;
    ++flagged;
    ++why[readout.find("collapsed") != std::string::npos   ? "collapsed gate"
          : readout.find("within strata") != std::string::npos ? "no variance explained within strata"
                                                               : "untrained or uniform gate"];
  }
  std::string out;
  if (flagged > 0) {
    std::string reasons;
    for (const auto& [w, n] : why) reasons += fmt::format("{}{}: {}", reasons.empty() ? "" : ", ", w, n);
    out += fmt::format("\nTable 2 (weighted sparsity) is not informative in {} of {} runs ({}): its numbers say nothing "
                       "about the strata there\n", flagged, done.size(), reasons);
  }
  int unconstrained = 0, models = 0;
  if (root.exists("trained"))
    for (const auto& id : root.open("trained").children()) {
      const auto t = root.open("trained").open(id);
      if (!t.exists("health/unconstrained_experts")) continue;
      ++models;
      unconstrained += scalar(t, "health/unconstrained_experts") > 0;
    }
  if (unconstrained > 0)
    out += fmt::format("warning: {} of {} trained models have an expert whose sparsity level equals its atoms: top-s "
                       "constrains nothing there\n", unconstrained, models);
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
  if (root.exists("strata"))
    out += fmt::format("strata: {} (each found once in its embedding and linked by its runs)\n",
                       root.open("strata").children().size());
  std::vector<std::string> done;
  if (root.exists("runs")) {
    const auto runs = root.open("runs");
    const auto ids = runs.children();
    out += fmt::format("runs: {}\n", ids.size());
    out += fmt::format("  {:<16} {:<6} {:<16} {:>3} {:>3} {:>5} {:>6} {:<9} {:>10} {:>9} {:>6} {:>6}  {}\n", "id", "status",
                       "embedding", "S", "E", "atoms", "seed", "gate", "loss", "entropy", "ARI", "NMI", "Table 2");
    for (const auto& id : ids) {
      const auto r = runs.open(id);
      out += run_line(root, id, r);
      if (status_of(root, r) == "done") done.push_back(id);
    }
  }
  if (with_tables && !done.empty()) {
    const auto runs = root.open("runs");
    for (std::size_t i = 0; i < done.size() && i < kMaxTables; ++i) out += tables(done[i], runs.open(done[i]));
    if (done.size() > kMaxTables)
      out += fmt::format("\n({} more runs: see `strata report {}`)\n", done.size() - kMaxTables, archive.string());
  }
  if (!done.empty()) out += ground_truth(root.open("runs"), done);
  if (!done.empty()) out += health(root, done);
  return out;
}

}  // namespace strata

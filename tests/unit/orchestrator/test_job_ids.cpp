// Every field of every job spec, walked from the specs' own declarations: changing a field
// that changes results changes the job id; changing one declared not to (threads, where a job
// runs, a path whose content enters by fingerprint) leaves it.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>

#include "core/analysis/analysis_spec.h"
#include "core/data/corpus_spec.h"
#include "core/moe/config.h"
#include "core/nn/embed_spec.h"
#include "orchestrator/plan.h"
#include "orchestrator/sweep.h"
#include "tests/catch.hpp"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using namespace strata;

namespace {

// Another valid value of a field, or null when the walk cannot make one (a sub-table: walked
// field by field instead).
nlohmann::json changed(const spec::FieldDoc& f, const nlohmann::json& v) {
  if (f.nested || v.is_null()) return nullptr;
  if (f.type == "character") return v == "x" ? "y" : "x";
  if (!f.choices.empty()) {
    for (const auto& c : f.choices)
      if (nlohmann::json(c) != v) return c;
    return nullptr;
  }
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_number_integer()) {
    const auto x = v.get<std::int64_t>();
    return static_cast<double>(x + 1) <= f.hi ? x + 1 : x - 1;
  }
  if (v.is_number()) {
    const double x = v.get<double>();
    const double up = x == 0 ? std::min(0.5, f.hi) : x * 0.5;
    return up == x ? x + 0.25 : up;
  }
  if (v.is_string()) return v.get<std::string>() + "x";
  if (v.is_array()) {
    nlohmann::json out = v;
    if (!out.empty() && out.back().is_number_integer()) out.back() = out.back().get<std::int64_t>() - 1;
    else out.push_back(f.type.find("string") != std::string::npos ? nlohmann::json("x") : nlohmann::json(1));
    if (out == v || (!out.empty() && out.back().is_number_integer() && out.back().get<std::int64_t>() < f.lo))
      out.back() = out.back().get<std::int64_t>() + 2;
    return out;
  }
  return nullptr;
}

// Walks the fields of spec S (and of its sub-tables, at the JSON pointer `at`), changing one at a
// time in the JSON form of `base`, reading it back through the schema and comparing the ids.
// `seen` collects "section.key" of every field walked. A field absent in `base` (an optional
// table or path that is not set) is left for another base.
template <typename S>
void walk(const S& base, const spec::SchemaInfo& info, const std::string& at, std::set<std::string>& seen) {
  const auto json = spec::to_json(base);
  const auto id = spec::id_json(base);
  for (const auto& f : info.fields) {
    const std::string where = at + "/" + f.key;
    const auto ptr = nlohmann::json::json_pointer(where);
    INFO(info.section << "." << f.key);
    if (f.nested) {
      const auto& sub = json.at(ptr);
      if (sub.is_object()) walk(base, *f.nested, where, seen);
      if (sub.is_array() && !sub.empty()) walk(base, *f.nested, where + "/0", seen);
      if (!sub.is_null() && !(sub.is_array() && sub.empty())) seen.insert(info.section + "." + f.key);
      continue;
    }
    auto other = json;
    const auto v = changed(f, json.at(ptr));
    if (v.is_null()) continue;
    other[ptr] = v;
    S read;
    try {
      read = spec::from_json<S>(other, "test");
    } catch (const InputError& e) {
      FAIL("the changed value is refused: " << e.what());
    }
    const bool same = spec::id_json(read) == id;
    if (f.flags & (spec::kNoId | spec::kByContent)) CHECK(same);
    else CHECK(!same);
    seen.insert(info.section + "." + f.key);
  }
}

template <typename S>
void walk(const S& base, std::set<std::string>& seen) {
  walk(base, S::schema().info(), "", seen);
}

// Every field of a schema and of its sub-tables.
void all_fields(const spec::SchemaInfo& info, std::set<std::string>& out) {
  for (const auto& f : info.fields) {
    out.insert(info.section + "." + f.key);
    if (f.nested) all_fields(*f.nested, out);
  }
}

}  // namespace

TEST_CASE("every result-changing field of every job spec is in its id, and nothing else", "[ids]") {
  std::set<std::string> seen, declared;
  CorpusSpec sources;
  SourceSpec src;
  src.name = "a";
  src.format = "jsonl";
  src.path = "/data/a.jsonl";
  sources.sources = {src};
  sources.samples_per_source = 10;
  walk(sources, seen);
  CorpusSpec table;
  table.table = "/data/t.jsonl";
  walk(table, seen);

  CorpusSpec synthetic;
  SyntheticSpec space;
  space.ambient_dim = 16;
  SyntheticStratum st;
  st.name = "s";
  space.strata = {st};
  synthetic.synthetic = space;
  walk(synthetic, seen);
  all_fields(CorpusSpec::schema().info(), declared);

  // A model whose kind needs neither path nor import, so both can change.
  nn::EmbedSpec model;
  model.name = "m";
  model.kind = "null_model";
  model.path = "/models/m";
  walk(model, seen);
  model.synthetic = space;
  walk(model, seen);
  all_fields(nn::EmbedSpec::schema().info(), declared);

  moe::MoeConfig paper;
  paper.atoms = 40;
  walk(paper, seen);
  all_fields(moe::MoeConfig::schema().info(), declared);

  analysis::AnalysisSpec an;
  walk(an, seen);
  all_fields(analysis::AnalysisSpec::schema().info(), declared);
  CHECK(seen == declared);
}

TEST_CASE("inputs enter ids by content: a replaced file changes the id, a moved one keeps it", "[ids]") {
  const auto dir = test::scratch_dir("job-ids");
  const auto table = dir / "t.jsonl";
  std::ofstream(table) << "{\"text\": \"a\", \"source\": \"s\"}\n";
  CorpusSpec c;
  c.table = table;
  const auto first = plan::corpus_job(c);
  CHECK(!first.inputs_missing);
  fs::create_directories(dir / "moved");
  fs::copy_file(table, dir / "moved" / "t.jsonl");
  c.table = dir / "moved" / "t.jsonl";
  CHECK(plan::corpus_job(c).id == first.id);
  // Replaced in place with other rows: another corpus.
  std::ofstream(table, std::ios::trunc) << "{\"text\": \"b\", \"source\": \"s\"}\n";
  c.table = table;
  CHECK(plan::corpus_job(c).id != first.id);
}

TEST_CASE("a sweep's table corpus and model get the ids `strata embed` gives them", "[ids]") {
  const auto dir = test::scratch_dir("job-ids-embed");
  std::ofstream(dir / "t.jsonl") << "{\"text\": \"a\", \"source\": \"s\"}\n";
  fs::create_directories(dir / "m");
  std::ofstream(dir / "m" / "config.json") << "{\"model_type\": \"bert\"}";
  std::ofstream(dir / "s.toml") << "[experiment]\nname = \"x\"\nseed = 7\n[corpus]\ntable = \"t.jsonl\"\n"
                                   "samples_per_source = 5\n[[model]]\nname = \"m\"\npath = \"m\"\n";
  const auto s = sweep::load_sweep(dir / "s.toml");
  const auto p = plan::make_plan(s);
  // What run_embed_command builds from `--corpus t.jsonl --model m --name m`.
  CorpusSpec table;
  table.table = dir / "t.jsonl";
  const auto corpus = plan::corpus_job(table);
  CHECK(corpus.id == p.corpus_id);
  nn::EmbedSpec m;
  m.name = "m";
  m.path = dir / "m";
  CHECK(plan::embed_job(m, corpus.id).id == p.embed("m").id);
}

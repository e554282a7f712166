#include "orchestrator/sweep.h"

#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/data/corpus_readers.h"
#include "core/util/error.h"

namespace strata::sweep {

namespace {



std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest(const std::string& key, const std::vector<std::string>& allowed) {
  std::string best;
  std::size_t best_d = 1000;
  for (const auto& a : allowed) {
    const std::size_t d = edit_distance(key, a);
    if (d < best_d) best_d = d, best = a;
  }
  return best_d <= std::max<std::size_t>(2, key.size() / 3) ? best : "";
}

// Reads one TOML table against its list of keys; every error names the file, line and column.
class Table {
 public:
  Table(const toml::table& t, std::string file, std::string where, std::vector<std::string> allowed)
      : t_(t), file_(std::move(file)), where_(std::move(where)), allowed_(std::move(allowed)) {
    for (const auto& [k, v] : t_) {
      const std::string key(k.str());
      if (std::find(allowed_.begin(), allowed_.end(), key) == allowed_.end()) {
        const std::string hint = closest(key, allowed_);
        fail(v, "unknown key '{}' in {}{}", key, where_, hint.empty() ? "" : " (did you mean '" + hint + "'?)");
      }
    }
  }

  template <typename... Args>
  [[noreturn]] void fail(const toml::node& n, fmt::format_string<Args...> f, Args&&... a) const {
    const auto& b = n.source().begin;
    throw InputError(fmt::format("{}:{}:{}: {}", file_, b.line, b.column, fmt::format(f, std::forward<Args>(a)...)));
  }
  template <typename... Args>
  [[noreturn]] void fail_here(fmt::format_string<Args...> f, Args&&... a) const {
    fail(t_, f, std::forward<Args>(a)...);
  }

  const toml::node* node(const std::string& key) const { return t_.get(key); }
  bool has(const std::string& key) const { return t_.contains(key); }

  std::optional<std::string> str(const std::string& key, const std::vector<std::string>& choices = {}) const {
    const auto* n = node(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail(*n, "{}.{} must be a string", where_, key);
    std::string v = **n->as_string();
    if (!choices.empty() && std::find(choices.begin(), choices.end(), v) == choices.end())
      fail(*n, "{}.{} = '{}' is not one of: {}", where_, key, v, fmt::join(choices, ", "));
    return v;
  }
  std::string required_str(const std::string& key, const std::vector<std::string>& choices = {}) const {
    auto v = str(key, choices);
    if (!v) fail_here("{} needs '{}'", where_, key);
    if (v->empty()) fail(*node(key), "{}.{} must not be empty", where_, key);
    return *v;
  }
  std::optional<bool> boolean(const std::string& key) const {
    const auto* n = node(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) fail(*n, "{}.{} must be true or false", where_, key);
    return **n->as_boolean();
  }
  std::int64_t check_int(const toml::node& n, const std::string& key, std::int64_t lo, std::int64_t hi) const {
    if (!n.is_integer()) fail(n, "{}.{} must be an integer", where_, key);
    const std::int64_t v = **n.as_integer();
    if (v < lo || v > hi) fail(n, "{}.{} = {} is out of range [{}, {}]", where_, key, v, lo, hi);
    return v;
  }
  std::optional<std::int64_t> integer(const std::string& key, std::int64_t lo, std::int64_t hi) const {
    const auto* n = node(key);
    if (!n) return std::nullopt;
    return check_int(*n, key, lo, hi);
  }
  double check_number(const toml::node& n, const std::string& key, double lo, double hi, bool open_lo) const {
    if (!n.is_number()) fail(n, "{}.{} must be a number", where_, key);
    const double v = n.is_integer() ? static_cast<double>(**n.as_integer()) : **n.as_floating_point();
    if (v < lo || v > hi || (open_lo && v == lo))
      fail(n, "{}.{} = {} is out of range {}{}, {}]", where_, key, v, open_lo ? "(" : "[", lo, hi);
    return v;
  }
  std::optional<double> number(const std::string& key, double lo, double hi, bool open_lo = false) const {
    const auto* n = node(key);
    if (!n) return std::nullopt;
    return check_number(*n, key, lo, hi, open_lo);
  }
  // A scalar or a non-empty array of scalars: the grid axis of one key.
  template <typename T, typename F>
  std::optional<std::vector<T>> axis(const std::string& key, F&& one) const {
    const auto* n = node(key);
    if (!n) return std::nullopt;
    std::vector<T> out;
    if (const auto* arr = n->as_array()) {
      if (arr->empty()) fail(*n, "{}.{} is an empty list: the grid would have no runs", where_, key);
      for (const auto& e : *arr) out.push_back(one(e));
    } else {
      out.push_back(one(*n));
    }
    std::set<T> seen;
    for (std::size_t i = 0; i < out.size(); ++i)
      if (!seen.insert(out[i]).second) fail(*n, "{}.{} lists the same value twice", where_, key);
    return out;
  }
  std::vector<std::string> string_list(const std::string& key) const {
    const auto* n = node(key);
    if (!n) return {};
    const auto* arr = n->as_array();
    if (!arr) fail(*n, "{}.{} must be a list of strings", where_, key);
    std::vector<std::string> out;
    for (const auto& e : *arr) {
      if (!e.is_string()) fail(e, "{}.{} must be a list of strings", where_, key);
      out.push_back(**e.as_string());
    }
    return out;
  }
  const toml::array* table_array(const std::string& key) const {
    const auto* n = node(key);
    if (!n) return nullptr;
    const auto* arr = n->as_array();
    if (!arr || !arr->is_array_of_tables()) fail(*n, "{}.{} must be written as [[{}.{}]] tables", where_, key, where_, key);
    return arr;
  }
  const toml::table* subtable(const std::string& key) const {
    const auto* n = node(key);
    if (!n) return nullptr;
    if (!n->is_table()) fail(*n, "{}.{} must be a table", where_, key);
    return n->as_table();
  }
  const std::string& file() const { return file_; }

 private:
  const toml::table& t_;
  std::string file_, where_;
  std::vector<std::string> allowed_;
};

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& p) {
  std::filesystem::path path(p);
  return path.is_absolute() ? path : (base / path).lexically_normal();
}

void parse_experiment(const Table& t, const std::filesystem::path& base, Sweep& s) {
  s.name = t.required_str("name");
  for (char c : s.name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      t.fail(*t.node("name"), "experiment.name '{}' may hold letters, digits, '-', '_' and '.' only", s.name);
  s.seed = static_cast<std::uint64_t>(t.integer("seed", 0, INT64_MAX).value_or(0));
  s.archive = resolve(base, t.str("archive").value_or("results/" + s.name + ".h5"));
  s.report = t.boolean("report").value_or(true);
}

SyntheticSpec parse_synthetic(const Table& t, const std::string& file, std::uint64_t seed) {
  SyntheticSpec spec;
  spec.ambient_dim = t.integer("dim", 1, 1 << 20).value_or(64);
  spec.noise = t.number("noise", 0, 1e6).value_or(0.0);
  spec.seed = seed;
  const auto* strata = t.table_array("stratum");
  if (!strata || strata->empty()) t.fail_here("corpus.synthetic needs at least one [[corpus.synthetic.stratum]]");
  std::set<std::string> names;
  for (const auto& e : *strata) {
    Table st(*e.as_table(), file, "corpus.synthetic.stratum",
             {"name", "kind", "dim", "points", "scale", "offset", "noise"});
    SyntheticStratum s;
    s.name = st.required_str("name");
    if (!names.insert(s.name).second) st.fail(*st.node("name"), "stratum name '{}' is used twice", s.name);
    s.kind = st.str("kind", {"linear", "sphere", "torus"}).value_or("linear");
    s.dim = st.integer("dim", 1, 1 << 20).value_or(2);
    s.points = st.integer("points", 1, 1 << 26).value_or(100);
    s.scale = st.number("scale", 0, 1e9, true).value_or(1.0);
    s.offset = st.number("offset", 0, 1e9).value_or(0.0);
    s.noise = st.number("noise", 0, 1e6).value_or(-1.0);
    if (chart_dimension(s) > spec.ambient_dim)
      st.fail_here("stratum '{}': a {} of dimension {} needs {} ambient dimensions but corpus.synthetic.dim = {}",
                   s.name, s.kind, s.dim, chart_dimension(s), spec.ambient_dim);
    spec.strata.push_back(s);
  }
  return spec;
}

void parse_corpus(const Table& t, const std::filesystem::path& base, Sweep& s) {
  auto& c = s.corpus;
  c.samples_per_source = t.integer("samples_per_source", 0, INT64_MAX).value_or(0);
  c.sampling = t.str("sampling", {"random", "first"}).value_or("random");
  c.balance_labels = t.boolean("balance_labels").value_or(false);
  c.min_chars = t.integer("min_chars", 0, INT64_MAX).value_or(0);
  c.max_chars = t.integer("max_chars", 0, INT64_MAX).value_or(0);
  if (c.max_chars > 0 && c.max_chars < c.min_chars)
    t.fail(*t.node("max_chars"), "corpus.max_chars = {} is below corpus.min_chars = {}", c.max_chars, c.min_chars);
  if (auto table = t.str("table")) c.table = resolve(base, *table);
  if (const auto* sources = t.table_array("source")) {
    std::set<std::string> names;
    for (const auto& e : *sources) {
      Table st(*e.as_table(), t.file(), "corpus.source",
               {"name", "format", "path", "split", "text_field", "label_field", "id_field", "source_column", "text_fields"});
      Source src;
      src.name = st.required_str("name");
      if (!names.insert(src.name).second)
        st.fail(*st.node("name"), "source name '{}' is used twice; every [[corpus.source]] needs its own name", src.name);
      src.format = st.required_str("format", known_formats());
      src.path = resolve(base, st.required_str("path"));
      src.split = st.str("split").value_or("train");
      src.text_field = st.str("text_field").value_or("text");
      src.label_field = st.str("label_field").value_or("label");
      src.id_field = st.str("id_field").value_or("");
      src.source_column = st.str("source_column").value_or("");
      src.text_fields = st.string_list("text_fields");
      c.sources.push_back(src);
    }
  }
  if (const auto* syn = t.subtable("synthetic")) {
    Table st(*syn, t.file(), "corpus.synthetic", {"dim", "noise", "stratum"});
    c.synthetic = parse_synthetic(st, t.file(), s.seed);
  }
  const int kinds = !c.sources.empty() + c.table.has_value() + c.synthetic.has_value();
  if (kinds != 1)
    t.fail_here("[corpus] needs exactly one of: [[corpus.source]] entries, table = \"FILE\", or [corpus.synthetic]");
}

void parse_models(const toml::array& arr, const std::string& file, const std::filesystem::path& base, Sweep& s) {
  std::set<std::string> names;
  for (const auto& e : arr) {
    Table t(*e.as_table(), file, "model",
            {"name", "path", "import", "dataset", "pooling", "dtype", "max_tokens", "batch_size", "batch_tokens",
             "normalize"});
    ModelSpec m;
    m.name = t.required_str("name");
    if (!names.insert(m.name).second) t.fail(*t.node("name"), "model name '{}' is used twice", m.name);
    if (m.name.find('/') != std::string::npos) t.fail(*t.node("name"), "model name '{}' must not contain '/'", m.name);
    const bool has_path = t.has("path"), has_import = t.has("import");
    if (has_path == has_import) t.fail_here("model '{}' needs exactly one of path = (a snapshot folder) or import = (vectors)", m.name);
    if (has_path) m.path = resolve(base, t.required_str("path"));
    if (has_import) m.import_path = resolve(base, t.required_str("import"));
    m.import_dataset = t.str("dataset").value_or("");
    m.pooling = t.str("pooling", {"mean", "last", "cls", "mean-with-padding"}).value_or("mean");
    m.dtype = t.str("dtype", {"fp32", "fp16", "bf16"}).value_or("fp32");
    m.max_tokens = t.integer("max_tokens", 1, 1 << 20).value_or(512);
    m.batch_size = t.integer("batch_size", 1, 1 << 20).value_or(64);
    m.batch_tokens = t.integer("batch_tokens", 0, std::int64_t{1} << 30).value_or(8192);
    m.normalize = t.boolean("normalize").value_or(false);
    s.models.push_back(m);
  }
}

void parse_moe(const Table& t, Sweep& s) {
  auto& m = s.moe;
  auto int_of = [&](const std::string& key, std::int64_t lo, std::int64_t hi) {
    return [&, key, lo, hi](const toml::node& n) { return t.check_int(n, key, lo, hi); };
  };
  if (auto v = t.axis<std::int64_t>("atoms", int_of("atoms", 1, 1 << 16))) m.atoms = *v;
  if (t.has("sparsity") && t.has("sparsity_sets"))
    t.fail(*t.node("sparsity"), "moe: give either sparsity = [..] (one set) or sparsity_sets = [[..], ..], not both");
  auto one_set = [&](const toml::node& n, const std::string& key) {
    const auto* arr = n.as_array();
    if (!arr) t.fail(n, "moe.{} must be a list of sparsity levels, one per expert", key);
    if (arr->empty()) t.fail(n, "moe.{} has an empty sparsity set: an MoE needs at least one expert", key);
    std::vector<std::int64_t> set;
    for (const auto& e : *arr) set.push_back(t.check_int(e, key, 1, 1 << 16));
    for (auto level : set)
      for (auto atoms : m.atoms)
        if (level > atoms)
          t.fail(n, "moe.{}: sparsity level {} exceeds the number of atoms ({}): an expert cannot use more atoms than it has",
                 key, level, atoms);
    return set;
  };
  if (const auto* n = t.node("sparsity")) m.sparsity_sets = {one_set(*n, "sparsity")};
  if (const auto* n = t.node("sparsity_sets")) {
    const auto* arr = n->as_array();
    if (!arr || arr->empty()) t.fail(*n, "moe.sparsity_sets must be a non-empty list of lists");
    m.sparsity_sets.clear();
    for (const auto& e : *arr) m.sparsity_sets.push_back(one_set(e, "sparsity_sets"));
  } else if (!t.has("sparsity")) {  // the paper's default set must fit the given atoms
    for (auto atoms : m.atoms)
      if (atoms < 32)
        t.fail(*t.node("atoms"), "moe.atoms = {} is below the default sparsity set's largest level (32); give moe.sparsity",
               atoms);
  }
  if (auto v = t.axis<std::int64_t>("strata", int_of("strata", 1, 1 << 20))) m.strata = *v;
  if (auto v = t.axis<std::int64_t>("lista_steps", int_of("lista_steps", 1, 64))) m.lista_steps = *v;
  if (auto v = t.axis<std::int64_t>("seeds", int_of("seeds", 0, INT64_MAX))) m.seeds = *v;
  if (auto v = t.axis<std::string>("gate", [&](const toml::node& n) {
        if (!n.is_string()) t.fail(n, "moe.gate must be \"attention\" or \"uniform\"");
        std::string g = **n.as_string();
        if (g != "attention" && g != "uniform") t.fail(n, "moe.gate = '{}' is not one of: attention, uniform", g);
        return g;
      }))
    m.gates = *v;
  if (auto v = t.axis<double>("lr", [&](const toml::node& n) { return t.check_number(n, "lr", 0, 10, true); }))
    m.lr = *v;
  m.gate_dim = t.integer("gate_dim", 1, 1 << 16).value_or(64);
  m.epochs = t.integer("epochs", 1, 1 << 24).value_or(100);
  m.batch_size = t.integer("batch_size", 1, 1 << 24).value_or(256);
  m.pca_dim = t.integer("pca_dim", 1, 1 << 16).value_or(64);
  m.load_balance = t.number("load_balance", 0, 1e6).value_or(0.0);
  m.entropy_weight = t.number("entropy_weight", -1e6, 1e6).value_or(0.0);
  m.standardize = t.boolean("standardize").value_or(false);
  m.preset = t.str("preset", {"paper", "authors-code"}).value_or("paper");
}

void parse_analysis(const Table& t, Sweep& s) {
  auto& a = s.analysis;
  a.strata_on = t.str("strata_on", {"embeddings", "gating"}).value_or("embeddings");
  a.pca_dim = t.integer("pca_dim", 0, 1 << 16).value_or(0);
  a.kmeans_restarts = t.integer("kmeans_restarts", 1, 10000).value_or(10);
  a.variance_fraction = t.number("variance_fraction", 0, 1, true).value_or(0.75);
  a.mle_k = t.integer("mle_k", 2, 10000).value_or(20);
  a.bootstrap = t.integer("bootstrap", 0, 1000000).value_or(0);
  a.null_model = t.boolean("null_model").value_or(false);
}

void parse_cluster(const Table& t, Sweep& s) {
  auto& c = s.cluster;
  c.ranks_per_train_job = t.integer("ranks_per_train_job", 1, 1 << 16).value_or(1);
  c.share_gpus = t.boolean("share_gpus").value_or(false);
  c.retries = t.integer("retries", 0, 100).value_or(1);
  c.job_timeout_s = t.number("job_timeout_s", 0, 1e9).value_or(0.0);
  c.heartbeat_s = t.number("heartbeat_s", 0, 1e6).value_or(10.0);
  c.heartbeat_timeout_s = t.number("heartbeat_timeout_s", 0, 1e9, true).value_or(6 * c.heartbeat_s);
  c.embed_shards = t.integer("embed_shards", 0, 4096).value_or(0);
  c.embed_shard_rows = t.integer("embed_shard_rows", 1, INT64_MAX).value_or(1000);
  c.commit_interval_s = t.number("commit_interval_s", 0, 1e6).value_or(1.0);
  // A timeout within one heartbeat interval would give up on every healthy rank.
  if (c.heartbeat_s > 0 && c.heartbeat_timeout_s <= c.heartbeat_s)
    t.fail(*t.node(t.has("heartbeat_timeout_s") ? "heartbeat_timeout_s" : "heartbeat_s"),
           "cluster.heartbeat_timeout_s = {} must be longer than cluster.heartbeat_s = {}", c.heartbeat_timeout_s,
           c.heartbeat_s);
}

}  // namespace

Sweep parse_sweep(const std::string& text, const std::filesystem::path& file) {
  const std::string fname = file.string();
  toml::table root;
  try {
    root = toml::parse(text, fname);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw InputError(fmt::format("{}:{}:{}: {}", fname, b.line, b.column, e.description()));
  }
  Sweep s;
  s.file = file;
  s.text = text;
  const auto base = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
  Table top(root, fname, "the sweep", {"experiment", "corpus", "model", "moe", "analysis", "cluster"});
  const auto* experiment = top.subtable("experiment");
  if (!experiment) throw InputError(fmt::format("{}:1:1: the sweep needs an [experiment] table with a name", fname));
  parse_experiment(Table(*experiment, fname, "experiment", {"name", "seed", "archive", "report", "description"}), base, s);
  const auto* corpus = top.subtable("corpus");
  if (!corpus) throw InputError(fmt::format("{}:1:1: the sweep needs a [corpus] table", fname));
  parse_corpus(Table(*corpus, fname, "corpus",
                     {"samples_per_source", "sampling", "balance_labels", "min_chars", "max_chars", "table",
                      "source", "synthetic"}),
               base, s);
  if (const auto* models = top.table_array("model")) parse_models(*models, fname, base, s);
  if (s.corpus.synthetic) {
    for (const auto& m : s.models)
      if (!m.is_import())
        throw InputError(fmt::format("{}: model '{}' reads text but the corpus is synthetic (it has no text)", fname, m.name));
  } else if (s.models.empty()) {
    throw InputError(fmt::format("{}:1:1: the sweep has no [[model]]: nothing to embed", fname));
  }
  if (const auto* moe = top.subtable("moe"))
    parse_moe(Table(*moe, fname, "moe",
                    {"atoms", "sparsity", "sparsity_sets", "strata", "lista_steps", "gate", "lr", "seeds", "gate_dim",
                     "epochs", "batch_size", "pca_dim", "load_balance", "entropy_weight", "standardize", "preset"}),
              s);
  if (const auto* an = top.subtable("analysis"))
    parse_analysis(Table(*an, fname, "analysis",
                         {"strata_on", "pca_dim", "kmeans_restarts", "variance_fraction", "mle_k", "bootstrap", "null_model"}),
                   s);
  if (const auto* cl = top.subtable("cluster"))
    parse_cluster(Table(*cl, fname, "cluster",
                        {"ranks_per_train_job", "share_gpus", "retries", "job_timeout_s", "heartbeat_s",
                         "heartbeat_timeout_s", "embed_shards", "embed_shard_rows", "commit_interval_s"}),
                  s);
  return s;
}

Sweep load_sweep(const std::filesystem::path& file) {
  if (std::error_code ec; std::filesystem::is_directory(file, ec)) fail_input("{}: a folder, not a sweep file", file.string());
  std::ifstream in(file, std::ios::binary);
  if (!in) fail_input("{}: cannot open the sweep file (no such file?)", file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_sweep(ss.str(), file);
}

}  // namespace strata::sweep

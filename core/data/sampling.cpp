#include "core/data/sampling.h"

#include <algorithm>
#include <map>
#include <vector>

#include "core/data/text_encoding.h"
#include "core/util/error.h"
#include "core/util/hash.h"

namespace strata {

namespace data {

std::uint64_t uniform_below(std::mt19937_64& gen, std::uint64_t n) {
  if (n == 0) fail_run("uniform_below: empty range");
  // 2^64 mod n: raw values below it would make small results more likely.
  const std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    const std::uint64_t r = gen();
    if (r >= threshold) return r % n;
  }
}

}  // namespace data

namespace {

using Positions = std::vector<std::size_t>;

// A generator per source: its rows do not depend on which other sources are sampled.
std::mt19937_64 source_generator(std::uint64_t seed, const std::string& source) {
  Sha256 h;
  h.field("strata.sample_rows").field(std::to_string(seed)).field(source);
  return std::mt19937_64(std::stoull(h.hex().substr(0, 16), nullptr, 16));
}

// k positions drawn without replacement (partial Fisher-Yates), in draw order.
Positions draw(Positions pool, std::size_t k, std::mt19937_64& gen) {
  for (std::size_t i = 0; i < k; ++i) {
    const auto j = i + static_cast<std::size_t>(data::uniform_below(gen, pool.size() - i));
    std::swap(pool[i], pool[j]);
  }
  pool.resize(k);
  return pool;
}

Positions take(const Positions& pool, std::size_t k, const SamplingSpec& s,
               std::mt19937_64& gen) {
  if (s.mode == "first") return Positions(pool.begin(), pool.begin() + static_cast<long>(k));
  return draw(pool, k, gen);
}

// Splits n over groups of the given sizes as evenly as possible (see sampling.h).
std::vector<std::size_t> balanced_quotas(std::size_t n, const std::vector<std::size_t>& sizes) {
  std::vector<std::size_t> quota(sizes.size(), 0);
  std::vector<bool> fixed(sizes.size(), false);
  std::size_t remaining = n, open = sizes.size();
  for (bool changed = true; changed && open > 0;) {
    changed = false;
    const std::size_t share = remaining / open, extra = remaining % open;
    std::size_t rank = 0;
    for (std::size_t g = 0; g < sizes.size(); ++g) {
      if (fixed[g]) continue;
      quota[g] = share + (rank++ < extra ? 1 : 0);
    }
    for (std::size_t g = 0; g < sizes.size(); ++g) {
      if (fixed[g] || sizes[g] >= quota[g]) continue;
      quota[g] = sizes[g];  // too few rows: take them all, the rest go to the others
      fixed[g] = true;
      remaining -= sizes[g];
      --open;
      changed = true;
    }
  }
  return quota;
}

std::string bounds_text(const SamplingSpec& s) {
  if (s.min_chars == 0 && s.max_chars == 0) return "";
  return fmt::format(" within the length bounds {}..{} code points", s.min_chars,
                     s.max_chars == 0 ? std::string("unbounded") : std::to_string(s.max_chars));
}

Positions sample_source(const Corpus& rows, const std::string& name, const SamplingSpec& s) {
  Positions pool;
  std::size_t read = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows.source[i] != name) continue;
    ++read;
    const std::size_t len = data::count_code_points(rows.text[i]);
    if (len < s.min_chars || (s.max_chars != 0 && len > s.max_chars)) continue;
    pool.push_back(i);
  }
  if (s.per_source > pool.size())
    fail_input("source '{}': {} rows asked for, {} available{} (of {} read)", name, s.per_source,
               pool.size(), bounds_text(s), read);
  std::mt19937_64 gen = source_generator(s.seed, name);
  if (!s.balance_labels) return take(pool, s.per_source ? s.per_source : pool.size(), s, gen);

  std::map<std::int64_t, Positions> by_label;  // ascending labels
  for (std::size_t i : pool) by_label[rows.label[i]].push_back(i);
  std::vector<std::size_t> sizes;
  for (const auto& [label, group] : by_label) sizes.push_back(group.size());
  const std::size_t n = s.per_source ? s.per_source
                                     : (sizes.empty() ? 0 : *std::min_element(sizes.begin(), sizes.end()) * sizes.size());
  const auto quota = balanced_quotas(n, sizes);
  Positions chosen;
  std::size_t g = 0;
  for (const auto& [label, group] : by_label) {
    const Positions part = take(group, quota[g++], s, gen);
    chosen.insert(chosen.end(), part.begin(), part.end());
  }
  return chosen;
}

}  // namespace

Corpus sample_rows(const Corpus& rows, const SamplingSpec& s) {
  rows.check_consistent();
  if (s.mode != "random" && s.mode != "first")
    fail_input("sampling: mode '{}' is not one of random, first", s.mode);
  if (s.max_chars != 0 && s.min_chars > s.max_chars)
    fail_input("sampling: min_chars {} is above max_chars {}", s.min_chars, s.max_chars);
  Positions chosen;
  for (const auto& name : rows.source_names()) {
    const Positions part = sample_source(rows, name, s);
    chosen.insert(chosen.end(), part.begin(), part.end());
  }
  std::sort(chosen.begin(), chosen.end());
  Corpus out;
  for (std::size_t i : chosen) out.push_back(rows.text[i], rows.source[i], rows.label[i], rows.id[i]);
  return out;
}

}  // namespace strata

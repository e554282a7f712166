#include "orchestrator/rank_placement.h"

#include <algorithm>

namespace strata {

RankPlacement::RankPlacement(int workers, double queue_below_s) : workers_(workers), queue_below_s_(queue_below_s) {
  for (int r = 1; r <= workers; ++r) idle_.insert(r);
}

std::size_t RankPlacement::ranks_for(const workers::JobRequest& r) const {
  const auto left = static_cast<std::size_t>(workers_) - lost_.size();
  return std::clamp<std::size_t>(static_cast<std::size_t>(std::max(r.ranks, 1)), 1, std::max<std::size_t>(left, 1));
}

// Loading a model costs more than shipping inputs; a rank that has loaded none loses nothing.
std::size_t RankPlacement::score(const workers::JobRequest& r, int rank) const {
  std::size_t held = 0;
  if (auto it = held_.find(rank); it != held_.end())
    for (const auto& in : r.inputs) held += it->second.count(in.object) * (in.role == "corpus" ? 1 : 100);
  if (!r.affinity.empty()) {
    auto a = affinity_.find(rank);
    held += a == affinity_.end() ? 50 : a->second == r.affinity ? 10000 : 0;
  }
  return held;
}

bool RankPlacement::failed_on(const std::string& object, int rank) const {
  const auto it = failed_on_.find(object);
  return it != failed_on_.end() && it->second.count(rank) > 0;
}

bool RankPlacement::short_kind(const std::string& kind) const {
  const auto it = longest_.find(kind);
  return it != longest_.end() && it->second < queue_below_s_;
}

std::vector<int> RankPlacement::pick(const workers::JobRequest& r, std::size_t count) const {
  std::vector<std::pair<int, std::size_t>> ranks;  // rank, score; idle_ is in rank order
  for (int rank : idle_) ranks.emplace_back(rank, score(r, rank));
  std::stable_sort(ranks.begin(), ranks.end(), [&](const auto& a, const auto& b) {
    const bool fa = failed_on(r.object, a.first), fb = failed_on(r.object, b.first);
    return fa != fb ? fb : a.second > b.second;
  });
  std::vector<int> picked;
  for (std::size_t i = 0; i < count && i < ranks.size(); ++i) picked.push_back(ranks[i].first);
  return picked;
}

bool RankPlacement::can_take(const workers::JobRequest& r) const {
  if (!failed_on_.count(r.object)) return true;
  std::size_t idle = 0, busy = 0;
  for (int rank : idle_) idle += !failed_on(r.object, rank);
  for (const auto& [rank, job] : busy_) busy += !failed_on(r.object, rank);
  const std::size_t need = ranks_for(r);
  return idle >= need || idle + busy < need;
}

std::optional<int> RankPlacement::queue_rank(const workers::JobRequest& r) const {
  if (ranks_for(r) != 1 || !short_kind(r.kind)) return std::nullopt;
  std::optional<int> best;
  std::size_t best_score = 0;
  for (const auto& [rank, job] : busy_) {
    if (job.next_kind || job.grouped || !short_kind(job.kind) || failed_on(r.object, rank)) continue;
    const std::size_t sc = score(r, rank);
    if (!best || sc > best_score) best = rank, best_score = sc;
  }
  return best;
}

void RankPlacement::started(int rank, const workers::JobRequest& r, bool grouped) {
  idle_.erase(rank);
  busy_[rank] = Busy{r.kind, grouped, std::nullopt};
  if (!r.affinity.empty()) affinity_[rank] = r.affinity;
}

void RankPlacement::queued(int rank, const workers::JobRequest& r) {
  busy_.at(rank).next_kind = r.kind;
  if (!r.affinity.empty()) affinity_[rank] = r.affinity;
}

void RankPlacement::finished(int rank, double seconds) {
  const auto it = busy_.find(rank);
  if (it == busy_.end()) {
    if (!lost_.count(rank)) idle_.insert(rank);
    return;
  }
  auto& longest = longest_[it->second.kind];
  longest = std::max(longest, seconds);
  if (it->second.next_kind) {
    it->second = Busy{*it->second.next_kind, false, std::nullopt};
    return;
  }
  busy_.erase(it);
  idle_.insert(rank);
}

void RankPlacement::failed(const std::string& object, int rank) { failed_on_[object].insert(rank); }

void RankPlacement::lost(int rank) {
  lost_.insert(rank);
  idle_.erase(rank);
  busy_.erase(rank);
  held_.erase(rank);
  drop_.erase(rank);
}

bool RankPlacement::holds(int rank, const std::string& object) const {
  const auto it = held_.find(rank);
  return it != held_.end() && it->second.count(object) > 0;
}

void RankPlacement::hold(int rank, const std::string& object) { held_[rank].insert(object); }

void RankPlacement::release(const std::string& object) {
  for (auto& [rank, held] : held_)
    if (held.erase(object)) drop_[rank].insert(object);
}

std::vector<std::string> RankPlacement::take_drops(int rank) {
  const auto it = drop_.find(rank);
  if (it == drop_.end()) return {};
  std::vector<std::string> out(it->second.begin(), it->second.end());
  drop_.erase(it);
  return out;
}

}  // namespace strata

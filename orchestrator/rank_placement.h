#pragma once
// Which worker ranks get which job, as a policy over what each rank does and holds, with no
// MPI in it: MpiExecutor tells it what happened and asks it where to send; tests drive it alone.
//
// - A job goes to the idle ranks that suit it best: first those where it has not failed before,
//   then the highest score (the job's model already loaded there counts most, then inputs
//   already held: an embedding more than a corpus); ties go to the lowest rank.
// - A retry waits while too few ranks where it has not failed are idle but enough are busy;
//   when there are not enough such ranks at all, it takes what is idle.
// - With no rank idle, a short single-rank job (of a kind whose every job so far took under
//   `queue_below_s`) may wait behind a busy rank's short job, one job deep.
// - A rank given up (lost) gets nothing again, and a job asks for at most the ranks left.
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "workers/executor.h"

namespace strata {

class RankPlacement {
 public:
  // Worker ranks are 1 .. workers (rank 0 coordinates), all idle at first.
  RankPlacement(int workers, double queue_below_s);

  std::size_t idle_count() const { return idle_.size(); }
  std::size_t ranks_for(const workers::JobRequest& r) const;  // what it asks for, capped by the ranks left
  std::vector<int> pick(const workers::JobRequest& r, std::size_t count) const;  // at most `count` idle ranks
  bool can_take(const workers::JobRequest& r) const;
  std::optional<int> queue_rank(const workers::JobRequest& r) const;
  bool has_room(const workers::JobRequest& r) const { return idle_.size() >= ranks_for(r) || queue_rank(r); }
  bool is_lost(int rank) const { return lost_.count(rank) > 0; }
  bool any_lost() const { return !lost_.empty(); }
  bool all_lost() const { return static_cast<int>(lost_.size()) >= workers_; }

  // The job was sent to an idle rank (`grouped`: as one of several ranks running it together).
  void started(int rank, const workers::JobRequest& r, bool grouped);
  // The job was sent to a busy rank, to start when its running job ends.
  void queued(int rank, const workers::JobRequest& r);
  // The rank's running job ended after `seconds`; its queued job (if any) starts.
  void finished(int rank, double seconds);
  void failed(const std::string& object, int rank);  // a retry of `object` avoids `rank`
  void lost(int rank);                               // given up: no more work, whatever it held

  // Inputs a rank keeps between jobs, and those it is to let go with its next job.
  bool holds(int rank, const std::string& object) const;
  void hold(int rank, const std::string& object);
  void release(const std::string& object);  // no job needs it any more: every holder drops it
  std::vector<std::string> take_drops(int rank);

 private:
  struct Busy {
    std::string kind;
    bool grouped = false;
    std::optional<std::string> next_kind;  // the kind of the job queued behind
  };
  std::size_t score(const workers::JobRequest& r, int rank) const;
  bool failed_on(const std::string& object, int rank) const;
  bool short_kind(const std::string& kind) const;

  int workers_;
  double queue_below_s_;
  std::set<int> idle_, lost_;
  std::map<int, Busy> busy_;
  std::map<std::string, double> longest_;  // the longest job of each kind so far (s)
  std::map<int, std::set<std::string>> held_, drop_;
  std::map<int, std::string> affinity_;  // the affinity of the last job sent to each rank
  std::map<std::string, std::set<int>> failed_on_;
};

}  // namespace strata

#pragma once
// The HDF5 archive of a sweep, and how it survives crashes.
//
// Finished jobs are first written as a small HDF5 file in the journal folder beside the
// archive (ARCHIVE.journal/00000001.h5, ...), to a temporary name, flushed, synced and
// renamed: a journal entry is on disk whole or not at all. An entry holds one job's result or
// a group of them committed together (one file, one fsync, one rename, one archive open for
// the group: what makes thousands of tiny jobs cheap). Each result is then merged into the
// archive and marked status = "done" there as the last step. On open, the archive is checked
// against the journal: results missing or unfinished in the archive are merged again, and an
// archive that HDF5 cannot open is rebuilt from the journal. The journal is kept; it is what
// makes a crash at any moment lose nothing that had been committed.
//
// Nothing is written before start() (or the first commit): opening an archive only reads it, so
// a run refused for any reason (another corpus, a foreign file) leaves it as it was. A write
// that fails (a full disk) throws StorageError; the archive then takes no more writes in this
// process, and --resume continues from the journal once the disk is fixed.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/h5.h"
#include "core/util/error.h"

namespace strata {

// An exclusive advisory lock (flock) on ARCHIVE.lock holding "host pid"; the file is removed when
// the lock is let go.
class ArchiveLock {
 public:
  explicit ArchiveLock(const std::filesystem::path& archive);
  ~ArchiveLock();
  ArchiveLock(const ArchiveLock&) = delete;
  ArchiveLock& operator=(const ArchiveLock&) = delete;

 private:
  int fd_ = -1;
  std::filesystem::path path_;
};

class Archive {
 public:
  // Takes the archive for this process: a new one (created at the first write), or an existing
  // one when `resume` is set. Refused (InputError, before anything is written): an existing
  // archive without `resume`, a file that is not a strata archive (unless a journal can rebuild
  // it), an archive of a newer format, a second writer. `sweep_text` is recorded by start()
  // (nothing for an empty one).
  Archive(const std::filesystem::path& file, bool resume, std::string sweep_text);

  // The first write: brings an existing archive in line with its journal (damaged entries are
  // moved aside with a warning, leftovers of interrupted writes removed) and records the sweep.
  // Called once the run is known to go ahead; commit() and mark_failed() call it themselves.
  void start();

  const std::filesystem::path& file() const { return file_; }
  std::filesystem::path journal_dir() const { return journal_; }

  // True when `object` (e.g. "/runs/ab12") is finished in this archive with this job id.
  bool done(const std::string& object, const std::string& id) const;
  // Refuses (InputError) when `object` exists with another job id: the archive holds a
  // different corpus, embedding or run under that name.
  void check_no_conflict(const std::string& object, const std::string& id, const std::string& what) const;

  using Writer = std::function<void(io::h5::Group&)>;
  // One finished job, as the archive takes it. `links` become soft links inside the object
  // (e.g. a run's params -> its trained model).
  struct Result {
    std::string object, id;
    nlohmann::json config;
    Writer write;
    std::map<std::string, std::string> links;
  };
  // Writes the results atomically to the journal as one entry, then merges them into the
  // archive. Nothing happens for none.
  void commit(const std::vector<Result>& results);
  void commit(const std::string& object, const std::string& id, const nlohmann::json& config, const Writer& write,
              const std::map<std::string, std::string>& links = {});
  // For many jobs at once (one archive open): whether each is finished with its id, after
  // refusing (InputError) any whose object exists with another id. `what` names the kind of
  // object for that message ("embeddings", ...); empty: not checked (e.g. an intermediate
  // object that is replaced when it comes from another configuration). With `replace`, an
  // object held with another id is reported (a warning) and counted as not done.
  struct Job {
    std::string object, id, what;
    bool replace = false;  // held from another configuration: computed again (a warning), not refused
  };
  std::vector<bool> check_done(const std::vector<Job>& jobs) const;
  // Records a failed job in the archive (not the journal: it will be retried on resume).
  void mark_failed(const std::string& object, const std::string& id, const nlohmann::json& config,
                   const std::string& message);

  // Opens the journal entry holding a finished object (or, without one, the archive) for
  // reading; the object is at its own path in it.
  io::h5::File open_result(const std::string& object) const;

  // What the journal holds of one object: the newest entry that has it.
  struct Entry {
    std::filesystem::path file;
    std::string id;
    std::vector<std::pair<std::string, std::string>> links;  // name -> target
  };

 private:
  enum class State { absent, readable, unreadable };
  void check_paths(bool resume) const;
  void check_format() const;
  std::string scan_journal();  // why the archive is unsafe for HDF5 ("" if not)
  void merge(const io::h5::File& src, const std::string& object, const Entry& e, io::h5::File& dst);
  void recover();
  void rebuild();
  void create();
  void record_sweep();
  void clean_journal();
  void writable();  // start()ed, created, and not broken by a failed write
  std::filesystem::path write_entry(const std::vector<Result>& results);
  void merge_entry(const std::filesystem::path& entry, const std::vector<Result>& results);
  [[noreturn]] void broken(const StorageError& e, const std::string& what);

  std::filesystem::path file_, journal_;
  std::string sweep_text_;
  std::unique_ptr<ArchiveLock> lock_;
  State state_ = State::absent;
  bool started_ = false, broken_ = false;
  std::map<std::string, Entry> entries_;      // by object
  std::vector<std::filesystem::path> damaged_;  // journal entries that cannot be read
  std::string unsafe_;                          // why HDF5 must not open the archive ("" if it may)
  std::uint64_t next_entry_ = 1;              // the number the next journal entry is written under
};

}  // namespace strata

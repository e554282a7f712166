#pragma once
// The HDF5 archive of a sweep, and how it survives crashes.
//
// Every finished job is first written as its own small HDF5 file in the journal folder
// beside the archive (ARCHIVE.journal/), to a temporary name, flushed and renamed: a job
// result is on disk whole or not at all. It is then merged into the archive and marked
// status = "done" there as the last step. On open, the archive is checked against the
// journal: entries missing or unfinished in the archive are merged again, and an archive
// that HDF5 cannot open is rebuilt from the journal. The journal is kept; it is what makes
// a crash at any moment lose nothing that had finished.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/io/h5.h"

namespace strata {

// An exclusive advisory lock (flock) on ARCHIVE.lock holding "host pid".
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
  // Creates the archive, or opens an existing one when `resume` is set (refusing otherwise).
  Archive(const std::filesystem::path& file, bool resume, const std::string& sweep_text);

  const std::filesystem::path& file() const { return file_; }
  std::filesystem::path journal_dir() const { return journal_; }

  // True when `object` (e.g. "/runs/ab12") is finished in this archive with this job id.
  bool done(const std::string& object, const std::string& id) const;
  // Refuses (InputError) when `object` exists with another job id: the archive holds a
  // different corpus, embedding or run under that name.
  void check_no_conflict(const std::string& object, const std::string& id, const std::string& what) const;

  using Writer = std::function<void(io::h5::Group&)>;
  // Writes one job's result atomically to the journal, then merges it into the archive.
  // `links` become soft links inside the object (e.g. a run's params -> its trained model).
  void commit(const std::string& object, const std::string& id, const nlohmann::json& config, const Writer& write,
              const std::map<std::string, std::string>& links = {});
  // Records a failed job in the archive (not the journal: it will be retried on resume).
  void mark_failed(const std::string& object, const std::string& id, const nlohmann::json& config,
                   const std::string& message);

  // Opens a finished object's journal file (or, without journal, the archive) for reading.
  io::h5::File open_result(const std::string& object) const;

 private:
  std::filesystem::path journal_file(const std::string& object) const;
  void merge(const std::filesystem::path& journal_file, const std::string& object, io::h5::File& dst);
  void recover();
  void rebuild();
  void create(const std::string& sweep_text);

  std::filesystem::path file_, journal_;
  std::unique_ptr<ArchiveLock> lock_;
};

}  // namespace strata

#include "orchestrator/archive.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <set>

#include "core/io/h5_probe.h"
#include "core/util/crash_point.h"
#include "core/util/error.h"
#include "core/util/log.h"

namespace strata {

namespace fs = std::filesystem;
using io::h5::File;
using io::h5::Group;

namespace {

// 2: job ids hash the specs' result-changing fields and their inputs' content (not paths).
constexpr std::int64_t kArchiveFormat = 2;

std::string hostname() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// fsync a file, so that a name it is renamed to never shows a torn file after a power cut.
void sync_file(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  const bool ok = fd >= 0 && ::fsync(fd) == 0;
  const int err = errno;
  if (fd >= 0 && ::close(fd) != 0 && ok) {
    const std::string reason = std::strerror(errno);
    throw StorageError(fmt::format("{}: cannot write: {}", p.string(), reason), reason);
  }
  if (!ok) throw StorageError(fmt::format("{}: cannot write: {}", p.string(), std::strerror(err)), std::strerror(err));
}

void rename_file(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) throw StorageError(fmt::format("{}: cannot rename to {}: {}", from.string(), to.string(), ec.message()), ec.message());
}

void make_folder(const fs::path& p) {
  std::error_code ec;
  if (p.empty() || fs::is_directory(p, ec)) return;
  fs::create_directories(p, ec);
  if (ec) throw StorageError(fmt::format("{}: cannot create the folder: {}", p.string(), ec.message()), ec.message());
}

void write_root_attrs(Group& root) {
  root.set_attr("format_version", kArchiveFormat);
  root.set_attr("program", std::string("strata"));
  root.set_attr("program_version", std::string(STRATA_VERSION));
  root.set_attr("created", now_utc());
}

bool group_done(const Group& root, const std::string& object, const std::string& id) {
  const std::string rel = object.substr(1);
  if (!root.exists(rel)) return false;
  const Group g = root.open(rel);
  return g.attr_string("status").value_or("") == "done" && g.attr_string("job_id").value_or("") == id;
}

// What copying journal entries into an archive may add to it, at most: their data, HDF5's
// metadata for them, and a margin for the B-trees and heaps the copies grow.
std::uintmax_t room_for(const std::vector<fs::path>& entries) {
  std::uintmax_t total = 1 << 20;
  std::error_code ec;
  for (const auto& e : std::set<fs::path>(entries.begin(), entries.end())) total += 2 * fs::file_size(e, ec);
  return total;
}

}  // namespace

ArchiveLock::ArchiveLock(const fs::path& archive) : path_(archive.string() + ".lock") {
  // The holder before us removes the file as it lets go: a lock taken on a file already removed
  // locks nothing, so the lock counts only when the name still leads to the locked file.
  for (int attempt = 0;; ++attempt) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) fail_input("{}: cannot create the lock file: {}", path_.string(), std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      std::ifstream in(path_);
      std::string holder((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      ::close(fd_);
      fd_ = -1;
      fail_input("{}: in use by another strata run ({}); wait for it or use another --archive", archive.string(),
                 holder.empty() ? "unknown holder" : holder.substr(0, 200));
    }
    struct stat held {}, named {};
    if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
        held.st_ino == named.st_ino)
      break;
    ::close(fd_);
    fd_ = -1;
    if (attempt == 100) fail_input("{}: cannot take the lock (the file keeps changing)", path_.string());
  }
  const std::string me = fmt::format("host {} pid {}", hostname(), ::getpid());
  if (::ftruncate(fd_, 0) == 0 && ::write(fd_, me.data(), me.size()) < 0) {
    // the lock holds without its note; only the message of a second run is poorer
  }
}

ArchiveLock::~ArchiveLock() {
  if (fd_ >= 0) {
    ::unlink(path_.c_str());  // while still held: see the constructor
    ::close(fd_);
  }
}

Archive::Archive(const fs::path& file, bool resume, std::string sweep_text)
    : file_(file), journal_(file.string() + ".journal"), sweep_text_(std::move(sweep_text)) {
  make_folder(file_.parent_path());
  lock_ = std::make_unique<ArchiveLock>(file_);
  check_paths(resume);
  std::error_code ec;
  if (!fs::exists(file_, ec) && !fs::exists(journal_, ec)) return;  // a new archive
  const std::string unsafe = unsafe_ = scan_journal();
  if (unsafe.empty() && io::h5::is_readable(file_)) {
    check_format();
    state_ = State::readable;
    return;
  }
  // Only a journal makes an unreadable file this strata's to replace (an archive is created whole,
  // by a rename, so a crash can damage one only after its first journal entry).
  const bool has_entries = !entries_.empty() || !damaged_.empty();
  if (fs::exists(file_, ec) && !has_entries)
    fail_input("{}: {}, and no journal ({}) to rebuild it from; refusing to overwrite it "
               "(move it away, or choose another --archive)",
               file_.string(), unsafe.empty() ? "not an HDF5 file, or damaged" : "damaged: " + unsafe,
               journal_.string());
  state_ = State::unreadable;
}

void Archive::check_paths(bool resume) const {
  std::error_code ec;
  if (fs::is_directory(file_, ec)) fail_input("{}: a folder, not an archive file", file_.string());
  if (fs::exists(journal_, ec) && !fs::is_directory(journal_, ec))
    fail_input("{}: not a folder, but the journal of {} must be one; move it away", journal_.string(),
               file_.string());
  if (resume) return;
  if (fs::exists(file_, ec))
    fail_input("{}: the archive exists; pass --resume to continue it, or choose another --archive", file_.string());
  if (fs::exists(journal_, ec))
    fail_input("{}: no archive, but its journal {} is there (an interrupted run); pass --resume to rebuild the "
               "archive from it, or remove the journal",
               file_.string(), journal_.string());
}

// Only strata's own archives are written into.
void Archive::check_format() const {
  const File f(file_, File::Mode::read);
  const auto root = f.root();
  const auto program = root.attr_string("program");
  const auto format = root.attr_int("format_version");
  if (program != "strata" || !format)
    fail_input("{}: an HDF5 file, but not a strata archive (no program = \"strata\" and format_version "
               "attributes); refusing to write into it",
               file_.string());
  if (*format != kArchiveFormat)
    fail_input("{}: archive format {}, but this strata reads format {}", file_.string(), *format, kArchiveFormat);
}

void Archive::start() {
  if (started_) return;
  started_ = true;
  if (state_ == State::absent) return;  // created at the first write
  try {
    clean_journal();
    recover();
    record_sweep();
  } catch (const StorageError& e) {
    broken(e, file_.string() + ": cannot write");
  } catch (const RunError& e) {  // HDF5 does not always record the system's reason
    broken(StorageError(e.what(), ""), file_.string() + ": cannot write");
  }
}

void Archive::writable() {
  if (broken_) throw StorageError(fmt::format("{}: not written after a failed write", file_.string()), "");
  start();
  if (state_ != State::absent) return;
  try {
    create();
  } catch (const StorageError& e) {
    broken(e, file_.string() + ": cannot create the archive");
  }
  state_ = State::readable;
}

// Created under a temporary name and renamed: an archive file is never a torn new one.
void Archive::create() {
  make_folder(journal_);
  const fs::path tmp = file_.string() + ".new.tmp";
  try {
    {
      File f(tmp, File::Mode::create_truncate);
      {
        auto root = f.root();
        write_root_attrs(root);
        root.set_attr("sweep_toml", sweep_text_);
        root.set_attr("sweep_history", sweep_text_.empty() ? std::vector<std::string>{} : std::vector{sweep_text_});
      }
      f.close();
    }
    sync_file(tmp);
    rename_file(tmp, file_);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

void Archive::record_sweep() {
  if (sweep_text_.empty()) return;
  File f(file_, File::Mode::read_write);
  {
    auto root = f.root();
    auto history = root.attr_strings("sweep_history");
    history.push_back(sweep_text_);
    root.set_attr("sweep_history", history);
    root.set_attr("sweep_toml", sweep_text_);
  }
  f.close();
}

[[noreturn]] void Archive::broken(const StorageError& e, const std::string& what) {
  broken_ = true;
  const std::string& reason = e.reason().empty() ? std::string(e.what()) : e.reason();
  throw StorageError(fmt::format("{}: {} (nothing committed is lost: run again with --resume once the disk can be "
                                 "written)",
                                 what, reason),
                     e.reason());
}

namespace {

// The objects a journal entry holds. A group entry lists them in the string datasets
// journal/{objects,job_ids,links} (links: object, name, target, ...; datasets, as a group of
// thousands of results outgrows what attributes may hold). An entry of one result written by
// earlier versions has the root attributes `object`, `job_id` and `links` (name, target, ...).
// Checked against what the entry holds: every object listed is there, with its job id.
std::vector<std::pair<std::string, Archive::Entry>> read_entry(const File& src) {
  const auto root = src.root();
  std::vector<std::pair<std::string, Archive::Entry>> out;
  if (!root.exists("journal")) {
    const auto links = root.attr_strings("links");
    Archive::Entry e{src.path(), root.attr_string("job_id").value_or(""), {}};
    for (std::size_t i = 0; i + 1 < links.size(); i += 2) e.links.emplace_back(links[i], links[i + 1]);
    out.emplace_back(root.attr_string("object").value_or(""), std::move(e));
  } else {
    const auto list = root.open("journal");
    const auto objects = list.read_strings("objects");
    const auto ids = list.read_strings("job_ids");
    const auto links = list.read_strings("links");
    if (ids.size() != objects.size())
      fail_input("{}: journal entry with {} objects and {} job ids", src.path().string(), objects.size(), ids.size());
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < objects.size(); ++i) {
      index[objects[i]] = i;
      out.emplace_back(objects[i], Archive::Entry{src.path(), ids[i], {}});
    }
    for (std::size_t i = 0; i + 2 < links.size(); i += 3)
      if (const auto it = index.find(links[i]); it != index.end())
        out[it->second].second.links.emplace_back(links[i + 1], links[i + 2]);
  }
  for (const auto& [object, e] : out) {
    if (object.size() < 2 || object.front() != '/')
      fail_input("{}: journal entry names no object ('{}')", src.path().string(), object);
    if (!root.exists(object.substr(1)) || root.open(object.substr(1)).attr_string("job_id") != e.id)
      fail_input("{}: journal entry lists {} (job {}) but does not hold it", src.path().string(), object, e.id);
  }
  return out;
}

// Entries are numbered; a number sorts by value, and names of earlier versions come first.
std::optional<std::uint64_t> entry_number(const fs::path& p) {
  const std::string stem = p.stem().string();
  if (stem.empty() || stem.size() > 18 || stem.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoull(stem);
}

}  // namespace

// Which entry holds each object: the newest, when a result was committed again. Only reads: an
// entry that cannot be read, or that HDF5 would crash on, is set aside by start(). The archive
// is checked for the latter in the same child process: returns why it is unsafe to open ("" when
// it is safe, or absent).
std::string Archive::scan_journal() {
  std::vector<std::pair<std::uint64_t, fs::path>> files;
  std::error_code ec;
  if (fs::is_directory(journal_, ec)) {
    for (auto it = fs::directory_iterator(journal_, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (it->path().extension() != ".h5") continue;  // leftovers like *.tmp are ignored
      const auto n = entry_number(it->path());
      files.emplace_back(n ? *n + 1 : 0, it->path());
      if (n) next_entry_ = std::max(next_entry_, *n + 1);
    }
    if (ec) fail_input("{}: cannot list the journal: {}", journal_.string(), ec.message());
  }
  std::sort(files.begin(), files.end());
  std::vector<fs::path> checked;
  for (const auto& f : files) checked.push_back(f.second);
  const bool archive_there = fs::is_regular_file(file_, ec);
  if (archive_there) checked.push_back(file_);
  const auto unsafe = io::h5::unsafe_to_read(checked);
  entries_.clear();
  damaged_.clear();
  for (std::size_t i = 0; i < files.size(); ++i) {
    const fs::path& path = files[i].second;
    try {
      if (!unsafe[i].empty()) throw InputError(unsafe[i]);
      const File src(path, File::Mode::read);
      for (auto& [object, e] : read_entry(src)) entries_[object] = std::move(e);
    } catch (const std::exception&) {
      damaged_.push_back(path);
    }
  }
  return archive_there ? unsafe.back() : "";
}

// Damaged entries (a disk that failed under an earlier version, a copy cut short) are moved
// aside, not deleted: their results are computed again. Temporary files of interrupted writes
// are removed: this process holds the lock, so no one else is writing them.
void Archive::clean_journal() {
  for (const auto& path : damaged_) {
    const fs::path aside = path.string() + ".damaged";
    log::warn("{}: journal entry cannot be read; moved to {} (its results are computed again)", path.string(),
              aside.filename().string());
    rename_file(path, aside);
  }
  damaged_.clear();
  std::error_code ec;
  for (const fs::path& p : {fs::path(file_.string() + ".new.tmp"), fs::path(file_.string() + ".rebuild.tmp")})
    fs::remove(p, ec);
  if (!fs::is_directory(journal_, ec)) return;
  std::vector<fs::path> leftovers;
  for (auto it = fs::directory_iterator(journal_, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    if (it->path().extension() == ".tmp") leftovers.push_back(it->path());
  for (const auto& p : leftovers) fs::remove(p, ec);
}

// Brings the archive in line with the journal after any interruption.
void Archive::recover() {
  if (state_ == State::unreadable) {
    std::error_code ec;
    if (fs::exists(file_, ec))
      log::warn("{}: the archive cannot be opened ({}); rebuilding it from {}", file_.string(),
                unsafe_.empty() ? "interrupted write?" : unsafe_, journal_.string());
    else
      log::warn("{}: no archive beside its journal; rebuilding it from {}", file_.string(), journal_.string());
    rebuild();
    state_ = State::readable;
    return;
  }
  std::vector<const std::pair<const std::string, Entry>*> missing;
  {
    const File f(file_, File::Mode::read);
    const auto root = f.root();
    for (const auto& entry : entries_)
      if (!group_done(root, entry.first, entry.second.id)) missing.push_back(&entry);
  }
  if (missing.empty()) return;  // opened for writing only when something is to be written
  try {
    std::vector<fs::path> files;
    for (const auto* entry : missing) files.push_back(entry->second.file);
    io::h5::ensure_room(file_, room_for(files));
    File dst(file_, File::Mode::read_write);
    for (const auto* entry : missing) {
      log::info("{}: merging {} from the journal", file_.string(), entry->first);
      merge(File(entry->second.file, File::Mode::read), entry->first, entry->second, dst);
    }
    dst.close();
  } catch (const StorageError&) {
    throw;  // the disk, not the archive: --resume again once it can be written
  } catch (const std::exception& e) {
    // A merge cut short (a full disk, a kill) can leave an archive HDF5 opens but cannot take the
    // object again; the journal holds every result, so the archive is made again from it.
    log::warn("{}: cannot merge the journal into it ({}); rebuilding it from {}", file_.string(), e.what(),
              journal_.string());
    rebuild();
  }
}

void Archive::rebuild() {
  make_folder(journal_);
  const fs::path tmp = file_.string() + ".rebuild.tmp";
  std::vector<fs::path> files;
  for (const auto& [object, e] : entries_) files.push_back(e.file);
  io::h5::ensure_room(tmp, room_for(files));
  {
    File dst(tmp, File::Mode::create_truncate);
    {
      auto root = dst.root();
      write_root_attrs(root);
      root.set_attr("rebuilt_from_journal", std::string("yes"));
    }
    for (const auto& [object, e] : entries_) merge(File(e.file, File::Mode::read), object, e, dst);
    dst.close();
  }
  sync_file(tmp);
  rename_file(tmp, file_);
}

void Archive::merge(const File& src, const std::string& object, const Entry& e, File& dst) {
  io::h5::copy_object(src, object, dst, object);
  crash_point("merge");
  auto g = dst.root().open(object.substr(1));
  for (const auto& [name, target] : e.links) g.soft_link(name, target);
  g.set_attr("status", std::string("done"));  // last: an object without it is unfinished
}

bool Archive::done(const std::string& object, const std::string& id) const {
  return check_done({{object, id, ""}}).front();
}

void Archive::check_no_conflict(const std::string& object, const std::string& id, const std::string& what) const {
  check_done({{object, id, what}});
}

// Only reads, so that a conflict is refused before anything is written: what the journal holds
// counts as in the archive (start() merges it).
std::vector<bool> Archive::check_done(const std::vector<Job>& jobs) const {
  std::optional<File> f;
  std::optional<Group> root;
  if (state_ == State::readable) {
    f.emplace(file_, File::Mode::read);
    root.emplace(f->root());
  }
  std::vector<bool> out;
  for (const auto& j : jobs) {
    const std::string rel = j.object.substr(1);
    const auto e = entries_.find(j.object);
    const bool in_archive = root && root->exists(rel);
    if (!j.what.empty()) {
      std::optional<std::string> held;
      if (e != entries_.end()) held = e->second.id;
      else if (in_archive) held = root->open(rel).attr_string("job_id").value_or("?");
      if (held && *held != j.id && j.replace)
        log::warn("{}: {} holds {} from another configuration (job {}); computing them again (job {}); what was "
                  "made from the old ones is kept and reads as stale",
                  file_.string(), j.object, j.what, *held, j.id);
      else if (held && *held != j.id)
        fail_input("{}: {} already holds {} from another configuration (job {} here, {} in the archive); "
                   "use another --archive",
                   file_.string(), j.object, j.what, j.id, *held);
    }
    // An archive copied without its journal still counts what it holds.
    out.push_back(e != entries_.end() ? e->second.id == j.id : in_archive && group_done(*root, j.object, j.id));
  }
  return out;
}

void Archive::commit(const std::string& object, const std::string& id, const nlohmann::json& config,
                     const Writer& write, const std::map<std::string, std::string>& links) {
  commit(std::vector<Result>{{object, id, config, write, links}});
}

void Archive::commit(const std::vector<Result>& results) {
  if (results.empty()) return;
  writable();
  const fs::path entry = write_entry(results);
  for (const auto& r : results) {
    Entry e{entry, r.id, {}};
    for (const auto& [name, target] : r.links) e.links.emplace_back(name, target);
    entries_[r.object] = std::move(e);
  }
  merge_entry(entry, results);
  crash_point("done");
}

// Every write of the entry is checked, its close too, and it is synced before its rename: an
// entry is in the journal whole or not at all, whatever the disk does.
fs::path Archive::write_entry(const std::vector<Result>& results) {
  const fs::path final_path = journal_ / fmt::format("{:08d}.h5", next_entry_++);
  const fs::path tmp = final_path.string() + ".tmp";
  try {
    make_folder(journal_);  // an archive copied without its journal starts a new one
    File j(tmp, File::Mode::create_truncate);
    {
      auto root = j.root();
      std::vector<std::string> objects, ids, links;
      for (const auto& r : results) {
        objects.push_back(r.object);
        ids.push_back(r.id);
        for (const auto& [name, target] : r.links) links.insert(links.end(), {r.object, name, target});
        auto g = root.require(r.object.substr(1));
        g.set_attr("job_id", r.id);
        g.set_attr("config", r.config.dump());
        r.write(g);
      }
      auto list = root.require("journal");
      list.write_strings("objects", objects);
      list.write_strings("job_ids", ids);
      list.write_strings("links", links);
    }
    j.close();
    sync_file(tmp);
    crash_point("journal");
    // The folder is not synced after the rename: a rename lost to a power cut only costs the
    // jobs' recomputation on resume, and a second fsync per commit doubled its cost.
    rename_file(tmp, final_path);
  } catch (const StorageError& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    broken(e, journal_.string() + ": cannot write a journal entry");
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  return final_path;
}

void Archive::merge_entry(const fs::path& entry, const std::vector<Result>& results) {
  try {
    io::h5::ensure_room(file_, room_for({entry}));
    const File src(entry, File::Mode::read);
    File dst(file_, File::Mode::read_write);
    for (const auto& r : results) merge(src, r.object, entries_.at(r.object), dst);
    dst.close();
  } catch (const StorageError& e) {
    broken(e, file_.string() + ": cannot write (its journal has the results)");
  } catch (const RunError& e) {  // HDF5 does not always record the system's reason
    broken(StorageError(e.what(), ""), file_.string() + ": cannot write (its journal has the results)");
  }
}

void Archive::mark_failed(const std::string& object, const std::string& id, const nlohmann::json& config,
                          const std::string& message) {
  writable();
  try {
    File dst(file_, File::Mode::read_write);
    {
      auto root = dst.root();
      root.remove(object.substr(1));
      auto g = root.require(object.substr(1));
      g.set_attr("job_id", id);
      g.set_attr("config", config.dump());
      g.set_attr("status", std::string("failed"));
      g.set_attr("error", message);
    }
    dst.close();
  } catch (const StorageError& e) {
    broken(e, file_.string() + ": cannot write");
  }
}

File Archive::open_result(const std::string& object) const {
  const auto e = entries_.find(object);
  return e != entries_.end() ? File(e->second.file, File::Mode::read) : File(file_, File::Mode::read);
}

}  // namespace strata

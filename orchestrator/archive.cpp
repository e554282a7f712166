#include "orchestrator/archive.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <optional>

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

// An archive of another format has other job ids for the same work: continuing it would
// recompute everything beside results it cannot tell apart. Refused before anything is written.
void check_format(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec) || !io::h5::is_readable(file)) return;  // a damaged one is rebuilt from its journal
  const auto version = File(file, File::Mode::read).root().attr_int("format_version");
  if (version && *version != kArchiveFormat)
    fail_input("{}: an archive of format {} (this strata writes format {}, whose job ids differ); "
               "continue it with the strata that wrote it, or run into another --archive",
               file.string(), *version, kArchiveFormat);
}

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
  const int fd = ::open(p.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

bool group_done(const Group& root, const std::string& object, const std::string& id) {
  const std::string rel = object.substr(1);
  if (!root.exists(rel)) return false;
  const Group g = root.open(rel);
  return g.attr_string("status").value_or("") == "done" && g.attr_string("job_id").value_or("") == id;
}

}  // namespace

ArchiveLock::ArchiveLock(const fs::path& archive) : path_(archive.string() + ".lock") {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail_input("{}: cannot create the lock file (folder not writable?)", path_.string());
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    std::ifstream in(path_);
    std::string holder((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ::close(fd_);
    fd_ = -1;
    fail_input("{}: in use by another strata run ({}); wait for it or use another --archive", archive.string(),
               holder.empty() ? "unknown holder" : holder);
  }
  const std::string me = fmt::format("host {} pid {}", hostname(), ::getpid());
  if (::ftruncate(fd_, 0) == 0 && ::write(fd_, me.data(), me.size()) < 0) {
    // the lock holds without its note; only the message of a second run is poorer
  }
}

ArchiveLock::~ArchiveLock() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

Archive::Archive(const fs::path& file, bool resume, const std::string& sweep_text)
    : file_(file), journal_(file.string() + ".journal") {
  if (!file_.parent_path().empty()) fs::create_directories(file_.parent_path());
  lock_ = std::make_unique<ArchiveLock>(file_);
  const bool exists = fs::exists(file_) || fs::exists(journal_);
  if (exists && !resume)
    fail_input("{}: the archive exists; pass --resume to continue it, or choose another --archive", file_.string());
  fs::create_directories(journal_);
  if (!exists) {
    create(sweep_text);
    return;
  }
  check_format(file_);
  recover();
  File f(file_, File::Mode::read_write);
  auto root = f.root();
  auto history = root.attr_strings("sweep_history");
  history.push_back(sweep_text);
  root.set_attr("sweep_history", history);
  root.set_attr("sweep_toml", sweep_text);
}

void Archive::create(const std::string& sweep_text) {
  File f(file_, File::Mode::create_truncate);
  auto root = f.root();
  root.set_attr("format_version", kArchiveFormat);
  root.set_attr("program", std::string("strata"));
  root.set_attr("program_version", std::string(STRATA_VERSION));
  root.set_attr("created", now_utc());
  root.set_attr("sweep_toml", sweep_text);
  root.set_attr("sweep_history", std::vector<std::string>{sweep_text});
  f.flush();
}

namespace {

// The objects a journal entry holds. A group entry lists them in the string datasets
// journal/{objects,job_ids,links} (links: object, name, target, ...; datasets, as a group of
// thousands of results outgrows what attributes may hold). An entry of one result written by
// earlier versions has the root attributes `object`, `job_id` and `links` (name, target, ...).
std::vector<std::pair<std::string, Archive::Entry>> read_entry(const File& src) {
  const auto root = src.root();
  std::vector<std::pair<std::string, Archive::Entry>> out;
  if (!root.exists("journal")) {
    const auto links = root.attr_strings("links");
    Archive::Entry e{src.path(), root.attr_string("job_id").value_or(""), {}};
    for (std::size_t i = 0; i + 1 < links.size(); i += 2) e.links.emplace_back(links[i], links[i + 1]);
    out.emplace_back(root.attr_string("object").value_or(""), std::move(e));
    return out;
  }
  const auto list = root.open("journal");
  const auto objects = list.read_strings("objects");
  const auto ids = list.read_strings("job_ids");
  const auto links = list.read_strings("links");
  if (ids.size() != objects.size())
    fail_run("{}: journal entry with {} objects and {} job ids", src.path().string(), objects.size(), ids.size());
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    index[objects[i]] = i;
    out.emplace_back(objects[i], Archive::Entry{src.path(), ids[i], {}});
  }
  for (std::size_t i = 0; i + 2 < links.size(); i += 3)
    if (const auto it = index.find(links[i]); it != index.end())
      out[it->second].second.links.emplace_back(links[i + 1], links[i + 2]);
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

// Which entry holds each object: the newest, when a result was committed again.
void Archive::scan_journal() {
  std::vector<std::pair<std::uint64_t, fs::path>> files;
  for (const auto& entry : fs::directory_iterator(journal_)) {
    if (entry.path().extension() != ".h5") continue;  // leftovers like *.tmp are ignored
    const auto n = entry_number(entry.path());
    files.emplace_back(n ? *n + 1 : 0, entry.path());
    if (n) next_entry_ = std::max(next_entry_, *n + 1);
  }
  std::sort(files.begin(), files.end());
  entries_.clear();
  for (const auto& [n, path] : files) {
    const File src(path, File::Mode::read);
    for (auto& [object, e] : read_entry(src))
      if (!object.empty()) entries_[object] = std::move(e);
  }
}

// Brings the archive in line with the journal after any interruption.
void Archive::recover() {
  scan_journal();
  if (!io::h5::is_readable(file_)) {
    log::warn("{}: the archive cannot be opened (interrupted write?); rebuilding it from {}", file_.string(),
              journal_.string());
    rebuild();
    return;
  }
  File dst(file_, File::Mode::read_write);
  auto root = dst.root();
  for (const auto& [object, e] : entries_) {
    if (group_done(root, object, e.id)) continue;
    log::info("{}: merging {} from the journal", file_.string(), object);
    merge(File(e.file, File::Mode::read), object, e, dst);
  }
  dst.flush();
}

void Archive::rebuild() {
  const fs::path tmp = file_.string() + ".rebuild.tmp";
  {
    File dst(tmp, File::Mode::create_truncate);
    auto root = dst.root();
    root.set_attr("format_version", kArchiveFormat);
    root.set_attr("program", std::string("strata"));
    root.set_attr("program_version", std::string(STRATA_VERSION));
    root.set_attr("created", now_utc());
    root.set_attr("rebuilt_from_journal", std::string("yes"));
    for (const auto& [object, e] : entries_) merge(File(e.file, File::Mode::read), object, e, dst);
    dst.flush();
  }
  fs::rename(tmp, file_);
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

std::vector<bool> Archive::check_done(const std::vector<Job>& jobs) const {
  File f(file_, File::Mode::read);
  const auto root = f.root();
  std::vector<bool> out;
  for (const auto& j : jobs) {
    const std::string rel = j.object.substr(1);
    if (!j.what.empty() && root.exists(rel)) {
      const auto held = root.open(rel).attr_string("job_id").value_or("?");
      if (held != j.id)
        fail_input("{}: {} already holds {} from another configuration (job {} here, {} in the archive); "
                   "use another --archive",
                   file_.string(), j.object, j.what, j.id, held);
    }
    // An archive copied without its journal still counts what it holds.
    const auto e = entries_.find(j.object);
    out.push_back((e == entries_.end() || e->second.id == j.id) && group_done(root, j.object, j.id));
  }
  return out;
}

void Archive::commit(const std::string& object, const std::string& id, const nlohmann::json& config,
                     const Writer& write, const std::map<std::string, std::string>& links) {
  commit(std::vector<Result>{{object, id, config, write, links}});
}

void Archive::commit(const std::vector<Result>& results) {
  if (results.empty()) return;
  const fs::path final_path = journal_ / fmt::format("{:08d}.h5", next_entry_++);
  const fs::path tmp = final_path.string() + ".tmp";
  {
    File j(tmp, File::Mode::create_truncate);
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
    j.flush();
  }
  sync_file(tmp);
  crash_point("journal");
  // The folder is not synced after the rename: a rename lost to a power cut only costs the jobs'
  // recomputation on resume, and a second fsync per commit doubled its cost.
  fs::rename(tmp, final_path);
  for (const auto& r : results) {
    Entry e{final_path, r.id, {}};
    for (const auto& [name, target] : r.links) e.links.emplace_back(name, target);
    entries_[r.object] = std::move(e);
  }
  {
    const File src(final_path, File::Mode::read);
    File dst(file_, File::Mode::read_write);
    for (const auto& r : results) merge(src, r.object, entries_.at(r.object), dst);
    dst.flush();
  }
  crash_point("done");
}

void Archive::mark_failed(const std::string& object, const std::string& id, const nlohmann::json& config,
                          const std::string& message) {
  File dst(file_, File::Mode::read_write);
  auto root = dst.root();
  root.remove(object.substr(1));
  auto g = root.require(object.substr(1));
  g.set_attr("job_id", id);
  g.set_attr("config", config.dump());
  g.set_attr("status", std::string("failed"));
  g.set_attr("error", message);
  dst.flush();
}

File Archive::open_result(const std::string& object) const {
  const auto e = entries_.find(object);
  return e != entries_.end() ? File(e->second.file, File::Mode::read) : File(file_, File::Mode::read);
}

}  // namespace strata

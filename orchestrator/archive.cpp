#include "orchestrator/archive.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "core/util/crash_point.h"
#include "core/util/error.h"
#include "core/util/log.h"

namespace strata {

namespace fs = std::filesystem;
using io::h5::File;
using io::h5::Group;

namespace {

constexpr std::int64_t kArchiveFormat = 1;

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

fs::path Archive::journal_file(const std::string& object) const {
  std::string name = object.substr(1);
  for (auto& c : name)
    if (c == '/') c = '~';
  return journal_ / (name + ".h5");
}

// Brings the archive in line with the journal after any interruption.
void Archive::recover() {
  if (!io::h5::is_readable(file_)) {
    log::warn("{}: the archive cannot be opened (interrupted write?); rebuilding it from {}", file_.string(),
              journal_.string());
    rebuild();
    return;
  }
  File dst(file_, File::Mode::read_write);
  auto root = dst.root();
  for (const auto& entry : fs::directory_iterator(journal_)) {
    if (entry.path().extension() != ".h5") continue;  // leftovers like *.tmp are ignored
    File src(entry.path(), File::Mode::read);
    const auto object = src.root().attr_string("object").value_or("");
    const auto id = src.root().attr_string("job_id").value_or("");
    if (object.empty() || group_done(root, object, id)) continue;
    log::info("{}: merging {} from the journal", file_.string(), object);
    merge(entry.path(), object, dst);
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
    std::vector<fs::path> entries;
    for (const auto& entry : fs::directory_iterator(journal_))
      if (entry.path().extension() == ".h5") entries.push_back(entry.path());
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries) {
      File src(e, File::Mode::read);
      merge(e, src.root().attr_string("object").value_or(""), dst);
    }
    dst.flush();
  }
  fs::rename(tmp, file_);
}

void Archive::merge(const fs::path& jf, const std::string& object, File& dst) {
  if (object.empty()) fail_input("{}: journal entry without an object name", jf.string());
  File src(jf, File::Mode::read);
  io::h5::copy_object(src, object, dst, object);
  crash_point("merge");
  auto g = dst.root().open(object.substr(1));
  // Soft links recorded with the entry (e.g. a run's view of its trained model).
  const auto links = src.root().attr_strings("links");
  for (std::size_t i = 0; i + 1 < links.size(); i += 2) g.soft_link(links[i], links[i + 1]);
  g.set_attr("status", std::string("done"));  // last: an object without it is unfinished
}

bool Archive::done(const std::string& object, const std::string& id) const {
  if (!fs::exists(journal_file(object))) {
    // An archive copied without its journal still counts what it holds.
    File f(file_, File::Mode::read);
    return group_done(f.root(), object, id);
  }
  File src(journal_file(object), File::Mode::read);
  if (src.root().attr_string("job_id").value_or("") != id) return false;
  File f(file_, File::Mode::read);
  return group_done(f.root(), object, id);
}

void Archive::check_no_conflict(const std::string& object, const std::string& id, const std::string& what) const {
  File f(file_, File::Mode::read);
  auto root = f.root();
  if (!root.exists(object.substr(1))) return;
  const auto held = root.open(object.substr(1)).attr_string("job_id").value_or("?");
  if (held != id)
    fail_input("{}: {} already holds {} from another configuration (job {} here, {} in the archive); "
               "use another --archive",
               file_.string(), object, what, id, held);
}

void Archive::commit(const std::string& object, const std::string& id, const nlohmann::json& config,
                     const Writer& write, const std::map<std::string, std::string>& links) {
  const fs::path final_path = journal_file(object);
  const fs::path tmp = final_path.string() + ".tmp";
  {
    File j(tmp, File::Mode::create_truncate);
    auto root = j.root();
    root.set_attr("object", object);
    root.set_attr("job_id", id);
    std::vector<std::string> flat;
    for (const auto& [name, target] : links) {
      flat.push_back(name);
      flat.push_back(target);
    }
    root.set_attr("links", flat);
    auto g = root.require(object.substr(1));
    g.set_attr("job_id", id);
    g.set_attr("config", config.dump());
    write(g);
    j.flush();
  }
  sync_file(tmp);
  crash_point("journal");
  // The folder is not synced after the rename: a rename lost to a power cut only costs the job's
  // recomputation on resume, and a second fsync per job doubled the cost of a commit.
  fs::rename(tmp, final_path);
  {
    File dst(file_, File::Mode::read_write);
    merge(final_path, object, dst);
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
  const fs::path jf = journal_file(object);
  return fs::exists(jf) ? File(jf, File::Mode::read) : File(file_, File::Mode::read);
}

}  // namespace strata

#include "core/io/h5_probe.h"

#include <fcntl.h>
#include <hdf5.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <vector>

#include <fmt/format.h>

#include "core/io/h5.h"
#include "core/util/error.h"

// Under AddressSanitizer a report in the child would run the death callback a fuzzer installs
// (which records the input as a finding of the parent's); the child has none.
extern "C" void __sanitizer_set_death_callback(void (*)(void)) __attribute__((weak));

namespace strata::io::h5 {

namespace {

// Datasets up to this size are read whole; larger ones at their first and last element.
constexpr hsize_t kWholeBytes = hsize_t{64} << 20;

// Reads the selected points of an attribute (`attr`) or a dataset into native memory and frees
// what HDF5 allocated for variable-length parts.
void read_selection(hid_t obj, bool attr, hid_t file_type, hid_t file_space) {
  const Id mem_type(H5Tget_native_type(file_type, H5T_DIR_ASCEND), H5Tclose, "get a native type");
  const hsize_t element = H5Tget_size(mem_type.get());
  const hssize_t selected = H5Sget_select_npoints(file_space);
  if (element == 0 || selected <= 0) return;
  const hsize_t n = static_cast<hsize_t>(selected);
  if (n > kWholeBytes / element) return;  // an attribute claiming this much (strata writes none so large)
  std::vector<unsigned char> buffer(n * element);
  const Id mem_space(H5Screate_simple(1, &n, nullptr), H5Sclose, "create a memory space");
  const herr_t read = attr ? H5Aread(obj, mem_type.get(), buffer.data())
                           : H5Dread(obj, mem_type.get(), mem_space.get(), file_space, H5P_DEFAULT, buffer.data());
  if (read < 0) fail_input("HDF5 cannot read an object");
  H5Dvlen_reclaim(mem_type.get(), mem_space.get(), H5P_DEFAULT, buffer.data());
}

// Called by HDF5 for each attribute: no exception may pass through, and one that fails does not
// keep the others from being tried.
herr_t read_attribute(hid_t obj, const char* name, const H5A_info_t*, void*) noexcept {
  try {
    const Id a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, "open an attribute");
    const Id type(H5Aget_type(a.get()), H5Tclose, "read an attribute type");
    const Id space(H5Aget_space(a.get()), H5Sclose, "read an attribute space");
    read_selection(a.get(), true, type.get(), space.get());
  } catch (...) {
  }
  return 0;
}

void read_attributes(hid_t obj) {
  hsize_t at = 0;
  H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &at, read_attribute, nullptr);
}

void read_dataset(hid_t d) {
  const Id type(H5Dget_type(d), H5Tclose, "read a dataset type");
  const Id space(H5Dget_space(d), H5Sclose, "read a dataset space");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  const hssize_t points = H5Sget_simple_extent_npoints(space.get());
  if (rank < 0 || points < 0) fail_input("HDF5 cannot read a dataset's shape");
  if (points == 0) return;
  const hsize_t element = H5Tget_size(type.get());
  if (rank > 0 && (element == 0 || static_cast<hsize_t>(points) > kWholeBytes / element)) {
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank)), coords(2 * dims.size());
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    for (std::size_t k = 0; k < dims.size(); ++k) coords[dims.size() + k] = dims[k] - 1;  // coords[0..rank) = 0
    if (H5Sselect_elements(space.get(), H5S_SELECT_SET, 2, coords.data()) < 0) fail_input("HDF5 cannot select");
  }
  read_selection(d, false, type.get(), space.get());
}

// HDF5 calls this from C: no exception may pass through. An object that cannot be read is an
// error strata meets in this process too; the walk goes on to the others, any of which may be
// one that crashes.
herr_t visit_link(hid_t group, const char* name, const H5L_info_t* info, void*) noexcept {
  if (info->type != H5L_TYPE_HARD) return 0;  // soft and external links lead to objects visited, or none
  try {
    const Id obj(H5Oopen(group, name, H5P_DEFAULT), H5Oclose, "open an object");
    read_attributes(obj.get());
    if (H5Iget_type(obj.get()) == H5I_DATASET) read_dataset(obj.get());
  } catch (...) {
  }
  return 0;
}

// The child: reads the files from `first` on, writing one byte to `out` after each.
[[noreturn]] void child(const std::vector<std::filesystem::path>& files, std::size_t first, int out) {
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(nullptr);
  for (int s : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) ::signal(s, SIG_DFL);
  // What dies here (a sanitizer's report, a library's message) is the parent's to say, in one line.
  if (const int null = ::open("/dev/null", O_WRONLY); null >= 0) {
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
  }
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  for (std::size_t i = first; i < files.size(); ++i) {
    try {
      read_everything(files[i]);
    } catch (...) {  // an error is the parent's to meet and report; only surviving counts here
    }
    const char done = 1;
    if (::write(out, &done, 1) != 1) ::_exit(3);
  }
  ::_exit(0);
}

std::string signal_name(int s) {
  switch (s) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGABRT: return "SIGABRT";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    default: return fmt::format("signal {}", s);
  }
}

// Waits for the child's bytes; returns how many files it finished, and why it stopped if early.
std::size_t follow(pid_t pid, int in, std::size_t expected, int seconds_per_file, std::string& why) {
  std::size_t finished = 0;
  bool timed_out = false;
  while (finished < expected) {
    pollfd p{in, POLLIN, 0};
    const int ready = ::poll(&p, 1, seconds_per_file * 1000);
    if (ready == 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    char c;
    const ssize_t got = ::read(in, &c, 1);
    if (got == 1) ++finished;
    else if (got == 0 || errno != EINTR) break;  // the child is gone
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) why = fmt::format("HDF5 took more than {} s reading it", seconds_per_file);
  else if (WIFSIGNALED(status))
    why = fmt::format("HDF5 crashed reading it in a checking process ({})", signal_name(WTERMSIG(status)));
  else why = fmt::format("HDF5 crashed reading it in a checking process (exit status {})", WEXITSTATUS(status));
  return finished;
}

}  // namespace

void read_everything(const std::filesystem::path& file) {
  const File f(file, File::Mode::read);
  read_attributes(f.root().id());
  if (H5Lvisit(f.root().id(), H5_INDEX_NAME, H5_ITER_INC, visit_link, nullptr) < 0)
    fail_input("{}: HDF5 cannot walk the file", file.string());
}

std::vector<std::string> unsafe_to_read(const std::vector<std::filesystem::path>& files, int seconds_per_file) {
  std::vector<std::string> verdict(files.size());
  std::size_t next = 0;
  while (next < files.size()) {
    int fds[2];
    if (::pipe(fds) != 0) fail_run("cannot create a pipe to check {}: {}", files[next].string(), std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      fail_run("cannot start a process to check {}: {}", files[next].string(), std::strerror(errno));
    }
    if (pid == 0) {
      ::close(fds[0]);
      child(files, next, fds[1]);
    }
    ::close(fds[1]);
    std::string why;
    next += follow(pid, fds[0], files.size() - next, seconds_per_file, why);
    ::close(fds[0]);
    if (next < files.size()) verdict[next++] = why;  // the file it died on
  }
  return verdict;
}

}  // namespace strata::io::h5

#include "core/io/h5.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <system_error>

#include "core/util/error.h"

namespace strata::io::h5 {

namespace {

// Before HDF5's first call: no exit-time cleanup. After a failed write (a full disk) HDF5 keeps
// a half-closed file that its cleanup would crash on; every handle has an owner that closes it,
// so there is nothing left to clean up at exit. And no error stack printed (HDF5's default, per
// thread): strata reports errors itself.
void quiet_hdf5() {
  static std::once_flag once;
  std::call_once(once, [] { H5dont_atexit(); });
  thread_local bool quiet = false;
  if (!quiet) H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  quiet = true;
}

// The operating system's reason for the failure of the HDF5 call just made, e.g. "No space left
// on device": HDF5 records the errno of a failed system call in its error stack ("..., errno =
// 28, ..."). Empty when no system call failed.
std::string system_reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* e, void* out) -> herr_t {
        auto& r = *static_cast<std::string*>(out);
        const char* at = e->desc ? std::strstr(e->desc, "errno = ") : nullptr;
        if (r.empty() && at) {
          const int n = std::atoi(at + 8);
          if (n > 0) r = std::error_code(n, std::generic_category()).message();
        }
        return 0;
      },
      &reason);
  return reason;
}

// A failed call: StorageError when the system refused it (full disk, I/O error), else RunError.
[[noreturn]] void fail_call(const std::string& what) {
  const std::string reason = system_reason();
  if (!reason.empty()) throw StorageError(fmt::format("{}: {}", what, reason), reason);
  fail_run("HDF5: {}", what);
}

hid_t h5_type(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return H5T_NATIVE_FLOAT;
    case torch::kFloat64: return H5T_NATIVE_DOUBLE;
    case torch::kInt64: return H5T_NATIVE_INT64;
    case torch::kInt32: return H5T_NATIVE_INT32;
    case torch::kUInt8: return H5T_NATIVE_UINT8;
    case torch::kBool: return H5T_NATIVE_UINT8;
    default: return H5I_INVALID_HID;
  }
}

// float16 has no native HDF5 type: define the IEEE half layout that h5py reads as float16.
Id half_type() {
  Id t(H5Tcopy(H5T_IEEE_F32LE), H5Tclose, "half type");
  H5Tset_fields(t.get(), 15, 10, 5, 0, 10);
  H5Tset_size(t.get(), 2);
  H5Tset_ebias(t.get(), 15);
  return t;
}

Id vlen_utf8() {
  Id t(H5Tcopy(H5T_C_S1), H5Tclose, "string type");
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

Id untimed_dcpl() {
  Id p(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "dataset properties");
  H5Pset_obj_track_times(p.get(), false);
  return p;
}

Id untimed_gcpl() {
  Id p(H5Pcreate(H5P_GROUP_CREATE), H5Pclose, "group properties");
  H5Pset_obj_track_times(p.get(), false);
  return p;
}

Id parents_lcpl() {
  Id p(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "link properties");
  H5Pset_create_intermediate_group(p.get(), 1);
  return p;
}

}  // namespace

Id::Id(hid_t id, Closer closer, const std::string& what) : id_(id), closer_(closer) {
  if (id_ < 0) fail_call("cannot " + what);
}

Id& Id::operator=(Id&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    closer_ = o.closer_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Id::reset() {
  if (id_ >= 0 && closer_) closer_(id_);
  id_ = H5I_INVALID_HID;
}

hid_t Id::release() noexcept {
  const hid_t id = id_;
  id_ = H5I_INVALID_HID;
  return id;
}

std::string Group::where(const std::string& name) const {
  return file_ + ":" + (path_ == "/" ? "" : path_) + "/" + name;
}

bool Group::exists(const std::string& name) const {
  // H5Lexists fails on a missing intermediate; walk the path one link at a time.
  std::string prefix;
  std::size_t pos = 0;
  while (pos <= name.size()) {
    std::size_t slash = name.find('/', pos);
    prefix = name.substr(0, slash);
    if (H5Lexists(id(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return true;
}

Group Group::open(const std::string& name) const {
  if (!exists(name)) fail_input("{}: no such group", where(name));
  {
    Id object(H5Oopen(id(), name.c_str(), H5P_DEFAULT), H5Oclose, "open " + where(name));
    if (H5Iget_type(object.get()) != H5I_GROUP) fail_input("{}: a dataset, not a group", where(name));
  }
  Id g(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), H5Gclose, "open group " + where(name));
  return Group(std::move(g), path_ == "/" ? "/" + name : path_ + "/" + name, file_);
}

Group Group::require(const std::string& name) {
  if (!exists(name)) {
    Id g(H5Gcreate2(id(), name.c_str(), parents_lcpl().get(), untimed_gcpl().get(), H5P_DEFAULT),
         H5Gclose, "create group " + where(name));
  }
  return open(name);
}

std::vector<std::string> Group::children() const {
  std::vector<std::string> names;
  H5Literate(
      id(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->emplace_back(name);
        return 0;
      },
      &names);
  return names;
}

Group::Kind Group::kind(const std::string& name) const {
  if (!exists(name)) return Kind::none;
  const hid_t raw = H5Oopen(id(), name.c_str(), H5P_DEFAULT);
  if (raw < 0) return Kind::none;  // the link's target is missing
  const Id object(raw, H5Oclose, "open " + where(name));
  const auto type = H5Iget_type(object.get());
  if (type == H5I_GROUP) return Kind::group;
  if (type != H5I_DATASET) return Kind::none;
  const Id dtype(H5Dget_type(object.get()), H5Tclose, "read the type of " + where(name));
  return H5Tget_class(dtype.get()) == H5T_STRING ? Kind::strings : Kind::numbers;
}

void Group::remove(const std::string& name) {
  if (exists(name) && H5Ldelete(id(), name.c_str(), H5P_DEFAULT) < 0) fail_call("cannot delete " + where(name));
}

void Group::soft_link(const std::string& name, const std::string& target) {
  remove(name);
  if (H5Lcreate_soft(target.c_str(), id(), name.c_str(), parents_lcpl().get(), H5P_DEFAULT) < 0)
    fail_call(fmt::format("cannot link {} -> {}", where(name), target));
}

void Group::write(const std::string& name, const torch::Tensor& tensor, std::int64_t chunk_rows) {
  const torch::Tensor t = tensor.to(torch::kCPU).contiguous();
  Id half;
  hid_t type = h5_type(t.scalar_type());
  if (t.scalar_type() == torch::kFloat16) {
    half = half_type();
    type = half.get();
  }
  if (type < 0) fail_run("HDF5: cannot store dtype {} at {}", c10::toString(t.scalar_type()), where(name));
  std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
  Id space(t.dim() == 0 ? H5Screate(H5S_SCALAR)
                        : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
           H5Sclose, "create dataspace for " + where(name));
  Id dcpl = untimed_dcpl();
  if (chunk_rows > 0 && t.dim() >= 1 && t.numel() > 0) {
    std::vector<hsize_t> chunk = dims;
    chunk[0] = std::min<hsize_t>(dims[0], static_cast<hsize_t>(chunk_rows));
    H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
  }
  remove(name);
  Id ds(H5Dcreate2(id(), name.c_str(), type, space.get(), parents_lcpl().get(), dcpl.get(), H5P_DEFAULT),
        H5Dclose, "create dataset " + where(name));
  if (t.numel() > 0 && H5Dwrite(ds.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()) < 0)
    fail_call("cannot write " + where(name));
}

Id Group::open_dataset(const std::string& name) const {
  if (!exists(name)) fail_input("{}: no such dataset", where(name));
  Id object(H5Oopen(id(), name.c_str(), H5P_DEFAULT), H5Oclose, "open " + where(name));
  if (H5Iget_type(object.get()) != H5I_DATASET) fail_input("{}: a group, not a dataset", where(name));
  return Id(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + where(name));
}

std::vector<std::int64_t> Group::shape(const std::string& name) const {
  const Id ds = open_dataset(name);
  Id space(H5Dget_space(ds.get()), H5Sclose, "read dataspace of " + where(name));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail_input("{}: unreadable dataspace (damaged file?)", where(name));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  for (const hsize_t d : dims)
    if (d > static_cast<hsize_t>(std::numeric_limits<std::int64_t>::max()))
      fail_input("{}: dimension {} is out of range", where(name), d);
  return {dims.begin(), dims.end()};
}

namespace {

// Reading a dataset allocates its whole size first: one larger than this machine's memory (a
// damaged or hostile file can claim any shape) is refused before the allocation.
void check_fits_in_memory(const std::vector<std::int64_t>& dims, std::size_t element_bytes, const std::string& where) {
  static const double memory = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  double bytes = static_cast<double>(element_bytes);
  for (const auto d : dims) bytes *= static_cast<double>(d);
  if (memory > 0 && bytes > memory)
    fail_input("{}: the dataset claims {:.3g} GB, more than this machine's memory ({:.3g} GB)", where, bytes / 1e9,
               memory / 1e9);
}

}  // namespace

torch::Tensor Group::read(const std::string& name) const {
  const auto dims = shape(name);
  const Id ds = open_dataset(name);
  Id ftype(H5Dget_type(ds.get()), H5Tclose, "read type of " + where(name));
  torch::ScalarType st;
  const H5T_class_t cls = H5Tget_class(ftype.get());
  const std::size_t size = H5Tget_size(ftype.get());
  if (cls == H5T_FLOAT) st = size == 2 ? torch::kFloat16 : size == 4 ? torch::kFloat32 : torch::kFloat64;
  else if (cls == H5T_INTEGER) st = size == 1 ? torch::kUInt8 : size == 4 ? torch::kInt32 : torch::kInt64;
  else fail_input("{}: dataset is not numeric", where(name));
  check_fits_in_memory(dims, static_cast<std::size_t>(c10::elementSize(st)), where(name));
  auto t = torch::empty(dims, torch::TensorOptions().dtype(st));
  Id half;
  hid_t mem = h5_type(st);
  if (st == torch::kFloat16) {
    half = half_type();
    mem = half.get();
  }
  if (t.numel() > 0 && H5Dread(ds.get(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()) < 0)
    fail_input("{}: cannot read dataset (damaged file?)", where(name));
  return t;
}

void Group::write_strings(const std::string& name, const std::vector<std::string>& values) {
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (const auto& v : values) ptrs.push_back(v.c_str());
  Id type = vlen_utf8();
  hsize_t n = values.size();
  Id space(H5Screate_simple(1, &n, nullptr), H5Sclose, "create dataspace for " + where(name));
  remove(name);
  Id ds(H5Dcreate2(id(), name.c_str(), type.get(), space.get(), parents_lcpl().get(), untimed_dcpl().get(),
                   H5P_DEFAULT),
        H5Dclose, "create dataset " + where(name));
  if (n > 0 && H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
    fail_call("cannot write " + where(name));
}

std::vector<std::string> Group::read_strings(const std::string& name) const {
  const auto dims = shape(name);
  if (dims.size() > 1) fail_input("{}: a list of strings must have one dimension, not {}", where(name), dims.size());
  const Id ds = open_dataset(name);
  {
    Id ftype(H5Dget_type(ds.get()), H5Tclose, "read type of " + where(name));
    if (H5Tget_class(ftype.get()) != H5T_STRING) fail_input("{}: not a dataset of strings", where(name));
  }
  check_fits_in_memory(dims, sizeof(char*), where(name));
  Id type = vlen_utf8();
  const std::size_t n = dims.empty() ? 1 : static_cast<std::size_t>(dims[0]);
  std::vector<char*> ptrs(n, nullptr);
  if (n > 0 && H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
    fail_input("{}: cannot read strings", where(name));
  std::vector<std::string> out;
  out.reserve(n);
  for (char* p : ptrs) {
    out.emplace_back(p ? p : "");
    H5free_memory(p);
  }
  return out;
}

namespace {

void write_attr(hid_t obj, const std::string& name, hid_t type, hid_t space, const void* data) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  Id a(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
       "create attribute " + name);
  if (H5Awrite(a.get(), type, data) < 0) fail_call("cannot write attribute " + name);
}

}  // namespace

void Group::set_attr(const std::string& name, const std::string& value) {
  Id type = vlen_utf8();
  Id space(H5Screate(H5S_SCALAR), H5Sclose, "scalar space");
  const char* p = value.c_str();
  write_attr(id(), name, type.get(), space.get(), &p);
}

void Group::set_attr(const std::string& name, std::int64_t value) {
  Id space(H5Screate(H5S_SCALAR), H5Sclose, "scalar space");
  write_attr(id(), name, H5T_NATIVE_INT64, space.get(), &value);
}

void Group::set_attr(const std::string& name, double value) {
  Id space(H5Screate(H5S_SCALAR), H5Sclose, "scalar space");
  write_attr(id(), name, H5T_NATIVE_DOUBLE, space.get(), &value);
}

void Group::set_attr(const std::string& name, const std::vector<std::string>& values) {
  Id type = vlen_utf8();
  if (values.empty()) {  // an empty list is an attribute with a null dataspace
    if (H5Aexists(id(), name.c_str()) > 0) H5Adelete(id(), name.c_str());
    Id space(H5Screate(H5S_NULL), H5Sclose, "null space");
    Id a(H5Acreate2(id(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
         "create attribute " + name);
    return;
  }
  hsize_t n = values.size();
  Id space(H5Screate_simple(1, &n, nullptr), H5Sclose, "attribute space");
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  write_attr(id(), name, type.get(), space.get(), ptrs.data());
}

bool Group::has_attr(const std::string& name) const { return H5Aexists(id(), name.c_str()) > 0; }

std::optional<std::string> Group::attr_string(const std::string& name) const {
  auto v = attr_strings(name);
  if (v.empty()) return std::nullopt;
  return v.front();
}

std::vector<std::string> Group::attr_names() const {
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
  };
  hsize_t at = 0;
  if (H5Aiterate2(id(), H5_INDEX_NAME, H5_ITER_INC, &at, collect, &names) < 0)
    fail_run("HDF5: cannot list the attributes of {}:{}", file_, path_);
  return names;
}

std::vector<std::string> Group::attr_strings(const std::string& name) const {
  if (!has_attr(name)) return {};
  Id a(H5Aopen(id(), name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + where(name));
  Id ftype(H5Aget_type(a.get()), H5Tclose, "attribute type");
  if (H5Tget_class(ftype.get()) != H5T_STRING) return {};
  Id space(H5Aget_space(a.get()), H5Sclose, "attribute space");
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  std::vector<std::string> out;
  if (n <= 0) return out;
  if (H5Tis_variable_str(ftype.get()) > 0) {
    Id type = vlen_utf8();
    std::vector<char*> ptrs(static_cast<std::size_t>(n), nullptr);
    if (H5Aread(a.get(), type.get(), ptrs.data()) < 0) return {};
    for (char* p : ptrs) {
      out.emplace_back(p ? p : "");
      H5free_memory(p);
    }
  } else {  // fixed-length strings, as some writers store them
    const std::size_t len = H5Tget_size(ftype.get());
    std::string buf(len * static_cast<std::size_t>(n), '\0');
    if (H5Aread(a.get(), ftype.get(), buf.data()) < 0) return {};
    for (hssize_t i = 0; i < n; ++i) {
      std::string s = buf.substr(static_cast<std::size_t>(i) * len, len);
      out.push_back(s.substr(0, s.find('\0')));
    }
  }
  return out;
}

std::optional<std::int64_t> Group::attr_int(const std::string& name) const {
  if (!has_attr(name)) return std::nullopt;
  Id a(H5Aopen(id(), name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + where(name));
  Id space(H5Aget_space(a.get()), H5Sclose, "attribute space");
  if (H5Sget_simple_extent_npoints(space.get()) != 1) return std::nullopt;  // one number only
  std::int64_t v = 0;
  if (H5Aread(a.get(), H5T_NATIVE_INT64, &v) < 0) return std::nullopt;
  return v;
}

std::optional<double> Group::attr_double(const std::string& name) const {
  if (!has_attr(name)) return std::nullopt;
  Id a(H5Aopen(id(), name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + where(name));
  Id space(H5Aget_space(a.get()), H5Sclose, "attribute space");
  if (H5Sget_simple_extent_npoints(space.get()) != 1) return std::nullopt;  // one number only
  double v = 0;
  if (H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v) < 0) return std::nullopt;
  return v;
}

File::File(const std::filesystem::path& path, Mode mode) : path_(path) {
  quiet_hdf5();
  const std::string p = path.string();
  hid_t id = H5I_INVALID_HID;
  if (mode == Mode::create_truncate) {
    Id fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "file properties");
    H5Pset_obj_track_times(fcpl.get(), false);
    id = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT);
    if (id < 0) {
      const std::string reason = system_reason();
      throw StorageError(fmt::format("{}: cannot create: {}", p, reason.empty() ? "HDF5 refused" : reason), reason);
    }
  } else {
    if (!std::filesystem::exists(path)) fail_input("{}: no such file", p);
    id = H5Fopen(p.c_str(), mode == Mode::read ? H5F_ACC_RDONLY : H5F_ACC_RDWR, H5P_DEFAULT);
    if (id < 0) fail_input("{}: cannot open as HDF5 (not an HDF5 file, damaged, or locked)", p);
  }
  id_ = Id(id, H5Fclose, "open " + p);
}

Group File::root() const {
  Id g(H5Gopen2(id_.get(), "/", H5P_DEFAULT), H5Gclose, "open root of " + path_.string());
  return Group(std::move(g), "/", path_.string());
}

void File::flush() {
  if (H5Fflush(id_.get(), H5F_SCOPE_GLOBAL) < 0) fail_call("cannot write " + path_.string());
}

void File::close() {
  if (id_.get() < 0) return;
  flush();  // everything, even what objects still open hold (their close would otherwise write it)
  if (H5Fclose(id_.release()) < 0) fail_call("cannot write " + path_.string());
}

void copy_object(const File& src, const std::string& src_path, File& dst, const std::string& dst_path) {
  Id lcpl = parents_lcpl();
  auto root = dst.root();
  root.remove(dst_path.substr(1));
  if (H5Ocopy(src.id(), src_path.c_str(), dst.id(), dst_path.c_str(), H5P_DEFAULT, lcpl.get()) < 0)
    fail_call(fmt::format("cannot copy {}:{} into {}:{}", src.path().string(), src_path, dst.path().string(), dst_path));
}

void ensure_room(const std::filesystem::path& path, std::uintmax_t bytes) {
  std::error_code ec;
  const bool existed = std::filesystem::exists(path, ec);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    const std::string reason = std::strerror(errno);
    throw StorageError(fmt::format("{}: cannot open for writing: {}", path.string(), reason), reason);
  }
  struct stat st {};
  const off_t size = ::fstat(fd, &st) == 0 ? st.st_size : 0;
  const int err = ::posix_fallocate(fd, size, static_cast<off_t>(bytes));
  const bool restored = ::ftruncate(fd, size) == 0;  // the file as it was
  ::close(fd);
  if (!existed) std::filesystem::remove(path, ec);
  if (err != 0 && err != EOPNOTSUPP && err != EINVAL) {
    const std::string reason = std::strerror(err);
    throw StorageError(fmt::format("{}: no room to write {} more bytes: {}", path.string(), bytes, reason), reason);
  }
  if (!restored) throw StorageError(fmt::format("{}: cannot restore its size: {}", path.string(), std::strerror(errno)), "");
}

bool library_threadsafe() {
  quiet_hdf5();
  hbool_t yes = 0;
  return H5is_library_threadsafe(&yes) >= 0 && yes;
}

bool is_readable(const std::filesystem::path& path) {
  quiet_hdf5();
  if (!std::filesystem::exists(path)) return false;
  if (H5Fis_hdf5(path.string().c_str()) <= 0) return false;
  hid_t id = H5Fopen(path.string().c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) return false;
  H5Fclose(id);
  return true;
}

}  // namespace strata::io::h5

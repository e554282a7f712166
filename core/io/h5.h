#pragma once
// Small RAII layer over the HDF5 C API: files, groups, tensor datasets, string datasets,
// attributes. Objects are created without modification times so that the same content
// gives the same bytes.
#include <hdf5.h>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace strata::io::h5 {

// Owns one hid_t and closes it with the matching H5*close.
class Id {
 public:
  using Closer = herr_t (*)(hid_t);
  Id() = default;
  Id(hid_t id, Closer closer, const std::string& what);
  ~Id() { reset(); }
  Id(Id&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = H5I_INVALID_HID; }
  Id& operator=(Id&& o) noexcept;
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }
  void reset();              // closes, ignoring a failure
  hid_t release() noexcept;  // gives up ownership

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

class Group {
 public:
  Group(Id id, std::string path, std::string file) : id_(std::move(id)), path_(std::move(path)), file_(std::move(file)) {}
  const std::string& path() const { return path_; }
  hid_t id() const { return id_.get(); }

  bool exists(const std::string& name) const;  // a child link, may be a relative path
  Group open(const std::string& name) const;
  Group require(const std::string& name);      // creates missing groups along a/b/c
  std::vector<std::string> children() const;   // link names in name order
  // What a child link leads to: nothing (no such link, or a dangling soft link), a group, a
  // dataset of strings or one of numbers.
  enum class Kind { none, group, strings, numbers };
  Kind kind(const std::string& name) const;
  void remove(const std::string& name);
  void soft_link(const std::string& name, const std::string& target);

  // Datasets. `chunk_rows` > 0 stores the dataset chunked along its first axis.
  void write(const std::string& name, const torch::Tensor& t, std::int64_t chunk_rows = 0);
  torch::Tensor read(const std::string& name) const;
  std::vector<std::int64_t> shape(const std::string& name) const;
  void write_strings(const std::string& name, const std::vector<std::string>& values);
  std::vector<std::string> read_strings(const std::string& name) const;

  // Attributes on this group (replaced if present).
  void set_attr(const std::string& name, const std::string& value);
  void set_attr(const std::string& name, std::int64_t value);
  void set_attr(const std::string& name, double value);
  void set_attr(const std::string& name, const std::vector<std::string>& values);
  bool has_attr(const std::string& name) const;
  std::optional<std::string> attr_string(const std::string& name) const;
  std::optional<std::int64_t> attr_int(const std::string& name) const;
  std::optional<double> attr_double(const std::string& name) const;
  std::vector<std::string> attr_strings(const std::string& name) const;
  std::vector<std::string> attr_names() const;  // in name order

 private:
  std::string where(const std::string& name) const;  // "file:/group/name" for messages
  Id open_dataset(const std::string& name) const;     // refusing a group or a missing name
  Id id_;
  std::string path_;
  std::string file_;
};

// Writes that fail for a reason of the operating system (a full disk, an I/O error) throw
// StorageError with that reason. Failed writes leave HDF5's state of the file undefined: such a
// file is not used again in the process, and HDF5's exit-time cleanup (which would touch it)
// is switched off; every file is closed by its owner instead.
class File {
 public:
  enum class Mode { read, read_write, create_truncate };
  File(const std::filesystem::path& path, Mode mode);
  Group root() const;
  void flush();  // throws StorageError when the data cannot be written
  void close();  // flushes and closes; throws StorageError when that fails
  const std::filesystem::path& path() const { return path_; }
  hid_t id() const { return id_.get(); }

 private:
  Id id_;
  std::filesystem::path path_;
};

// Copies object `src_path` of `src` to `dst_path` of `dst` (deep copy; parents created).
void copy_object(const File& src, const std::string& src_path, File& dst, const std::string& dst_path);

// Makes sure `path` (an existing file, or a new one) can grow by `bytes`: space is allocated
// past its end and given back (StorageError with the system's reason when it cannot be). HDF5
// crashes inside H5Ocopy when a write of the copy fails (1.10), so copies are checked first.
void ensure_room(const std::filesystem::path& path, std::uintmax_t bytes);

// Whether this HDF5 library serialises its calls itself, so two threads may use it.
bool library_threadsafe();

// True when HDF5 can open the file (it is an HDF5 file and its superblock is sound).
bool is_readable(const std::filesystem::path& path);

}  // namespace strata::io::h5

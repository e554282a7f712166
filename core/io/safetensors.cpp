#include "core/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/util/error.h"
#include "core/util/json_file.h"
#include "core/util/json_nesting.h"

namespace strata::io {

// ----------------------------------------------------------------------------------------
// Memory map

// An open file descriptor, closed on destruction.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// A private, read-only-in-intent mapping of a whole file. Private (copy-on-write) so that a
// tensor view written to by mistake changes memory, never the file.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) fail_input("{}: cannot open ({})", path.string(), std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
      fail_input("{}: cannot stat ({})", path.string(), std::strerror(errno));
    if (!S_ISREG(st.st_mode)) fail_input("{}: not a regular file", path.string());
    size_ = static_cast<std::uint64_t>(st.st_size);
    if (size_ == 0) return;
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(), 0);
    if (p == MAP_FAILED) fail_input("{}: cannot memory-map ({})", path.string(), std::strerror(errno));
    data_ = static_cast<std::uint8_t*>(p);
  }
  ~MappedFile() {
    if (data_) ::munmap(data_, size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::uint8_t* data() const { return data_; }
  std::uint64_t size() const { return size_; }

 private:
  std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
};

// ----------------------------------------------------------------------------------------
// Header validation

namespace {

using nlohmann::json;

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
  std::uint64_t size;
};
constexpr DtypeInfo kDtypes[] = {
    {"F32", torch::kFloat32, 4}, {"F16", torch::kFloat16, 2}, {"BF16", torch::kBFloat16, 2},
    {"F64", torch::kFloat64, 8}, {"I64", torch::kInt64, 8},   {"I32", torch::kInt32, 4},
    {"I8", torch::kInt8, 1},     {"U8", torch::kUInt8, 1},    {"BOOL", torch::kBool, 1},
};

const DtypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

const DtypeInfo* find_dtype(torch::ScalarType type) {
  for (const auto& d : kDtypes)
    if (type == d.type) return &d;
  return nullptr;
}

std::string known_dtypes() {
  std::vector<std::string> names;
  for (const auto& d : kDtypes) names.emplace_back(d.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

std::uint64_t read_u64_le(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::vector<std::int64_t> parse_shape(const json& j, const std::string& file, const std::string& name) {
  if (!j.is_array()) fail_input("{}: tensor '{}' has no shape array", file, name);
  std::vector<std::int64_t> shape;
  for (const auto& d : j) {
    if (!d.is_number_unsigned() || d.get<std::uint64_t>() > (std::uint64_t{1} << 62))
      fail_input("{}: tensor '{}' has shape {} (expected non-negative integers)", file, name, j.dump());
    shape.push_back(d.get<std::int64_t>());
  }
  return shape;
}

// shape × element size, or fails when the product overflows (a hostile header).
std::uint64_t byte_count(const std::vector<std::int64_t>& shape, std::uint64_t elem,
                         const std::string& file, const std::string& name) {
  std::uint64_t n = elem;
  for (auto d : shape)
    if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n))
      fail_input("{}: tensor '{}' has shape {} whose byte size overflows", file, name, shape);
  return n;
}

TensorEntry parse_entry(const std::string& name, const json& j, const std::string& file,
                        std::uint64_t data_size) {
  if (!j.is_object()) fail_input("{}: header entry '{}' is not an object", file, name);
  if (!j.contains("dtype") || !j["dtype"].is_string())
    fail_input("{}: tensor '{}' has no dtype string", file, name);
  TensorEntry e;
  e.dtype = j["dtype"].get<std::string>();
  const DtypeInfo* dt = find_dtype(e.dtype);
  if (!dt)
    fail_input("{}: tensor '{}' has dtype '{}', which is not supported (known: {})", file, name,
               e.dtype, known_dtypes());
  e.scalar_type = dt->type;
  e.shape = parse_shape(j.value("shape", json()), file, name);

  const json& off = j.value("data_offsets", json());
  if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
    fail_input("{}: tensor '{}' needs data_offsets [begin, end] of two non-negative integers, got {}",
               file, name, off.dump());
  e.begin = off[0].get<std::uint64_t>();
  e.end = off[1].get<std::uint64_t>();
  if (e.end < e.begin)
    fail_input("{}: tensor '{}' has data_offsets [{}, {}) that end before they begin", file, name,
               e.begin, e.end);
  if (e.end > data_size)
    fail_input("{}: tensor '{}' spans bytes [{}, {}) but the file's data section has {} bytes "
               "(truncated file?)", file, name, e.begin, e.end, data_size);
  const std::uint64_t expected = byte_count(e.shape, dt->size, file, name);
  if (expected != e.end - e.begin)
    fail_input("{}: tensor '{}' is {} of shape {} ({} bytes) but its data_offsets [{}, {}) span {} bytes",
               file, name, e.dtype, e.shape, expected, e.begin, e.end, e.end - e.begin);
  return e;
}

std::map<std::string, std::string> parse_metadata(const json& j, const std::string& file) {
  if (!j.is_object()) fail_input("{}: __metadata__ is not an object", file);
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : j.items()) {
    if (!v.is_string()) fail_input("{}: __metadata__ entry '{}' is not a string", file, k);
    out[k] = v.get<std::string>();
  }
  return out;
}

void check_no_overlap(const std::map<std::string, TensorEntry>& entries, const std::string& file) {
  std::vector<std::pair<const std::string*, const TensorEntry*>> by_start;
  for (const auto& [name, e] : entries)
    if (e.end > e.begin) by_start.emplace_back(&name, &e);  // empty tensors occupy no bytes
  std::sort(by_start.begin(), by_start.end(),
            [](const auto& a, const auto& b) { return a.second->begin < b.second->begin; });
  for (std::size_t i = 1; i < by_start.size(); ++i) {
    const auto& [pn, prev] = by_start[i - 1];
    const auto& [cn, cur] = by_start[i];
    if (cur->begin < prev->end)
      fail_input("{}: tensors '{}' [{}, {}) and '{}' [{}, {}) overlap", file, *pn, prev->begin,
                 prev->end, *cn, cur->begin, cur->end);
  }
}

// The names of a map keyed by tensor name, in order.
template <class Map>
std::vector<std::string> names_of(const Map& m) {
  std::vector<std::string> out;
  for (const auto& [name, _] : m) out.push_back(name);
  return out;
}

// The value for the tensor `name`, or an error naming `where` (the file or snapshot) and it.
template <class Map>
const typename Map::mapped_type& named(const Map& m, const std::string& name, const std::filesystem::path& where) {
  const auto it = m.find(name);
  if (it == m.end()) fail_input("{}: no tensor named '{}'", where.string(), name);
  return it->second;
}

}  // namespace

// ----------------------------------------------------------------------------------------
// SafetensorsFile

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path)
    : path_(path), map_(std::make_shared<MappedFile>(path)) {
  const std::string file = path.string();
  const std::uint64_t size = map_->size();
  if (size < 8)
    fail_input("{}: {} bytes is too short for a safetensors file (an 8-byte header size comes first)",
               file, size);
  const std::uint64_t header_size = read_u64_le(map_->data());
  if (header_size > kSafetensorsMaxHeader)
    fail_input("{}: header size {} exceeds the {}-byte limit (not a safetensors file?)", file,
               header_size, kSafetensorsMaxHeader);
  if (header_size > size - 8)
    fail_input("{}: header size {} runs past the end of the file ({} bytes; truncated file?)", file,
               header_size, size);
  data_start_ = 8 + header_size;

  json header;
  check_json_nesting({reinterpret_cast<const char*>(map_->data()) + 8, header_size}, file);
  try {
    header = json::parse(map_->data() + 8, map_->data() + data_start_);
  } catch (const json::exception& e) {
    fail_input("{}: header is not valid JSON ({})", file, e.what());
  }
  if (!header.is_object()) fail_input("{}: header is not a JSON object", file);

  const std::uint64_t data_size = size - data_start_;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      metadata_ = parse_metadata(value, file);
      continue;
    }
    entries_.emplace(name, parse_entry(name, value, file, data_size));
  }
  check_no_overlap(entries_, file);
}

std::vector<std::string> SafetensorsFile::names() const { return names_of(entries_); }

const TensorEntry& SafetensorsFile::entry(const std::string& name) const { return named(entries_, name, path_); }

torch::Tensor SafetensorsFile::view(const std::string& name) const {
  const TensorEntry& e = entry(name);
  const auto options = torch::TensorOptions().dtype(e.scalar_type);
  if (e.end == e.begin) return torch::empty(e.shape, options);
  std::uint8_t* p = map_->data() + data_start_ + e.begin;
  const auto elem = static_cast<std::uintptr_t>(torch::elementSize(e.scalar_type));
  if (reinterpret_cast<std::uintptr_t>(p) % elem != 0) {
    torch::Tensor copy = torch::empty(e.shape, options);
    std::memcpy(copy.data_ptr(), p, e.end - e.begin);
    return copy;
  }
  // The deleter holds the mapping: the view outlives this object safely.
  std::shared_ptr<MappedFile> keep = map_;
  return torch::from_blob(p, e.shape, [keep](void*) mutable { keep.reset(); }, options);
}

// ----------------------------------------------------------------------------------------
// SafetensorsStore

std::vector<std::filesystem::path> safetensors_files(const std::filesystem::path& dir) {
  const auto index = dir / "model.safetensors.index.json";
  if (std::filesystem::exists(index)) {
    const json j = read_json_file(index);
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      fail_input("{}: no weight_map object", index.string());
    std::set<std::string> shards;
    for (const auto& [name, file] : j["weight_map"].items()) {
      if (!file.is_string())
        fail_input("{}: weight_map entry '{}' is not a file name", index.string(), name);
      shards.insert(file.get<std::string>());
    }
    std::vector<std::filesystem::path> out;
    for (const auto& s : shards) out.push_back(dir / s);
    return out;
  }
  const auto single = dir / "model.safetensors";
  if (std::filesystem::exists(single)) return {single};
  fail_input("{}: holds neither model.safetensors nor model.safetensors.index.json (other weight "
             "formats such as pytorch_model.bin are not read: convert them with the safetensors "
             "package)", dir.string());
}

SafetensorsStore::SafetensorsStore(const std::filesystem::path& path) : source_(path) {
  std::filesystem::path index, single;
  if (std::filesystem::is_directory(path)) {
    const auto found = safetensors_files(path);  // fails when the folder holds no weights
    if (std::filesystem::exists(path / "model.safetensors.index.json"))
      index = path / "model.safetensors.index.json";
    else
      single = found.front();
  } else if (path.extension() == ".json") {
    index = path;
  } else {
    single = path;
  }

  if (!single.empty()) {
    files_.push_back(std::make_unique<SafetensorsFile>(single));
    for (const auto& name : files_.back()->names()) where_[name] = files_.back().get();
    return;
  }

  const json j = read_json_file(index);
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    fail_input("{}: no weight_map object", index.string());
  std::map<std::string, const SafetensorsFile*> by_file;
  for (const auto& [name, file_json] : j["weight_map"].items()) {
    if (!file_json.is_string())
      fail_input("{}: weight_map entry '{}' is not a file name", index.string(), name);
    const std::string shard = file_json.get<std::string>();
    auto it = by_file.find(shard);
    if (it == by_file.end()) {
      const auto shard_path = index.parent_path() / shard;
      if (!std::filesystem::exists(shard_path))
        fail_input("{}: weight_map puts '{}' in {}, which does not exist", index.string(), name,
                   shard_path.string());
      files_.push_back(std::make_unique<SafetensorsFile>(shard_path));
      it = by_file.emplace(shard, files_.back().get()).first;
    }
    if (!it->second->contains(name))
      fail_input("{}: weight_map puts '{}' in {}, which does not hold it", index.string(), name,
                 it->second->path().string());
    where_[name] = it->second;
  }
}

std::vector<std::string> SafetensorsStore::names() const { return names_of(where_); }

const TensorEntry& SafetensorsStore::entry(const std::string& name) const {
  return named(where_, name, source_)->entry(name);
}

torch::Tensor SafetensorsStore::view(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) fail_input("{}: no tensor named '{}'", source_.string(), name);
  return it->second->view(name);
}

torch::Tensor SafetensorsStore::load(const std::string& name, torch::ScalarType dtype,
                                     torch::Device device) const {
  return view(name).to(device, dtype, /*non_blocking=*/false, /*copy=*/true);
}

std::vector<std::filesystem::path> SafetensorsStore::files() const {
  std::vector<std::filesystem::path> out;
  for (const auto& f : files_) out.push_back(f->path());
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.filename() < b.filename(); });
  return out;
}

// ----------------------------------------------------------------------------------------
// Writer

void write_safetensors(const std::filesystem::path& path,
                       const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> data;
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    const DtypeInfo* dt = find_dtype(t.scalar_type());
    if (!dt) fail_input("{}: tensor '{}' has a dtype safetensors output does not cover", path.string(), name);
    torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    const std::uint64_t n = static_cast<std::uint64_t>(c.numel()) * dt->size;
    header[name] = {{"dtype", dt->name}, {"shape", c.sizes().vec()}, {"data_offsets", {offset, offset + n}}};
    offset += n;
    data.push_back(c);
  }
  std::string text = header.dump();
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');  // data section starts 8-aligned

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail_input("{}: cannot open for writing", path.string());
  std::uint8_t size_le[8];
  for (int i = 0; i < 8; ++i) size_le[i] = static_cast<std::uint8_t>(text.size() >> (8 * i));
  out.write(reinterpret_cast<const char*>(size_le), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& c : data)
    out.write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(c.nbytes()));
  if (!out) fail_input("{}: write failed (disk full?)", path.string());
}

}  // namespace strata::io

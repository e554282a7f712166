#include "workers/payload.h"

#include <cstring>
#include <set>

#include "core/util/error.h"

namespace strata::workers {

namespace {

// Chunk rows so large matrices can be read in parts (e.g. a slice of embeddings).
constexpr std::int64_t kChunkRows = 4096;

void read_into(const io::h5::Group& g, const std::string& prefix, Payload& p) {
  for (const auto& name : g.children()) {
    const std::string rel = prefix.empty() ? name : prefix + "/" + name;
    const hid_t id = H5Oopen(g.id(), name.c_str(), H5P_DEFAULT);
    if (id < 0) continue;  // a dangling soft link: not part of this payload
    H5O_info_t info;
#if H5_VERSION_GE(1, 12, 0)
    H5Oget_info3(id, &info, H5O_INFO_BASIC);
#else
    H5Oget_info2(id, &info, H5O_INFO_BASIC);
#endif
    H5Oclose(id);
    if (info.type == H5O_TYPE_GROUP) {
      read_into(g.open(name), rel, p);
      continue;
    }
    const hid_t ds = H5Dopen2(g.id(), name.c_str(), H5P_DEFAULT);
    const hid_t type = H5Dget_type(ds);
    const bool is_string = H5Tget_class(type) == H5T_STRING;
    H5Tclose(type);
    H5Dclose(ds);
    if (is_string) p.strings[rel] = g.read_strings(name);
    else p.tensors[rel] = g.read(name);
  }
}

template <typename T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
void put_str(std::string& out, std::string_view s) {
  put<std::uint64_t>(out, s.size());
  out.append(s);
}

struct Reader {
  std::string_view in;
  std::size_t pos = 0;
  template <typename T>
  T get() {
    if (pos + sizeof(T) > in.size()) fail_run("payload: truncated message");
    T v;
    std::memcpy(&v, in.data() + pos, sizeof v);
    pos += sizeof v;
    return v;
  }
  std::string_view bytes(std::size_t n) {
    if (pos + n > in.size()) fail_run("payload: truncated message");
    auto s = in.substr(pos, n);
    pos += n;
    return s;
  }
  std::string str() { return std::string(bytes(get<std::uint64_t>())); }
};

}  // namespace

void Payload::write(io::h5::Group& g) const {
  for (const auto& [name, t] : tensors) g.write(name, t, t.dim() == 2 && t.size(0) > kChunkRows ? kChunkRows : 0);
  for (const auto& [name, s] : strings) g.write_strings(name, s);
  for (const auto& [name, v] : attrs) g.set_attr(name, v);
  for (const auto& [name, v] : numbers) g.set_attr(name, v);
}

Payload Payload::read(const io::h5::Group& g) {
  Payload p;
  read_into(g, "", p);
  // The object's own attributes, less those the archive keeps about the job.
  static const std::set<std::string> bookkeeping{"job_id", "config", "status", "error", "rank", "ranks"};
  for (const auto& name : g.attr_names()) {
    if (bookkeeping.count(name)) continue;
    if (auto s = g.attr_string(name)) p.attrs[name] = *s;
    else if (auto v = g.attr_double(name)) p.numbers[name] = *v;
  }
  return p;
}

const torch::Tensor& Payload::tensor(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) fail_run("result has no '{}'", name);
  return it->second;
}

std::size_t Payload::bytes() const {
  std::size_t n = 0;
  for (const auto& [k, t] : tensors) n += t.nbytes();
  for (const auto& [k, v] : strings)
    for (const auto& s : v) n += s.size();
  return n;
}

std::string Payload::serialize() const {
  std::string out;
  put<std::uint64_t>(out, tensors.size());
  for (const auto& [name, tensor] : tensors) {
    const auto t = tensor.to(torch::kCPU).contiguous();
    put_str(out, name);
    put<std::int32_t>(out, static_cast<std::int32_t>(t.scalar_type()));
    put<std::uint64_t>(out, static_cast<std::uint64_t>(t.dim()));
    for (auto s : t.sizes()) put<std::int64_t>(out, s);
    put_str(out, std::string_view(static_cast<const char*>(t.data_ptr()), t.nbytes()));
  }
  put<std::uint64_t>(out, strings.size());
  for (const auto& [name, v] : strings) {
    put_str(out, name);
    put<std::uint64_t>(out, v.size());
    for (const auto& s : v) put_str(out, s);
  }
  put<std::uint64_t>(out, attrs.size());
  for (const auto& [k, v] : attrs) {
    put_str(out, k);
    put_str(out, v);
  }
  put<std::uint64_t>(out, numbers.size());
  for (const auto& [k, v] : numbers) {
    put_str(out, k);
    put<double>(out, v);
  }
  return out;
}

Payload Payload::deserialize(std::string_view bytes) {
  Reader r{bytes};
  Payload p;
  for (auto n = r.get<std::uint64_t>(); n > 0; --n) {
    std::string name = r.str();
    const auto type = static_cast<torch::ScalarType>(r.get<std::int32_t>());
    std::vector<std::int64_t> shape(r.get<std::uint64_t>());
    for (auto& s : shape) s = r.get<std::int64_t>();
    const auto data = r.bytes(r.get<std::uint64_t>());
    auto t = torch::empty(shape, torch::TensorOptions().dtype(type));
    if (static_cast<std::size_t>(t.nbytes()) != data.size()) fail_run("payload: tensor '{}' has the wrong size", name);
    std::memcpy(t.data_ptr(), data.data(), data.size());
    p.tensors[name] = t;
  }
  for (auto n = r.get<std::uint64_t>(); n > 0; --n) {
    std::string name = r.str();
    std::vector<std::string> v(r.get<std::uint64_t>());
    for (auto& s : v) s = r.str();
    p.strings[name] = std::move(v);
  }
  for (auto n = r.get<std::uint64_t>(); n > 0; --n) {
    std::string k = r.str();
    p.attrs[k] = r.str();
  }
  for (auto n = r.get<std::uint64_t>(); n > 0; --n) {
    std::string k = r.str();
    p.numbers[k] = r.get<double>();
  }
  return p;
}

}  // namespace strata::workers

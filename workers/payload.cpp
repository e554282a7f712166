#include "workers/payload.h"

#include <cstring>
#include <set>

#include "core/util/error.h"
#include "core/util/tensor_bytes.h"
#include "core/util/wire.h"

namespace strata::workers {

namespace {

// Chunk rows so large matrices can be read in parts (e.g. a slice of embeddings).
constexpr std::int64_t kChunkRows = 4096;

void read_into(const io::h5::Group& g, const std::string& prefix, Payload& p) {
  for (const auto& name : g.children()) {
    const std::string rel = prefix.empty() ? name : prefix + "/" + name;
    switch (g.kind(name)) {
      case io::h5::Group::Kind::none: break;  // a dangling soft link: not part of this payload
      case io::h5::Group::Kind::group: read_into(g.open(name), rel, p); break;
      case io::h5::Group::Kind::strings: p.strings[rel] = g.read_strings(name); break;
      case io::h5::Group::Kind::numbers: p.tensors[rel] = g.read(name); break;
    }
  }
}

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
  wire::Writer w;
  w.value<std::uint64_t>(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    const auto t = tensor.to(torch::kCPU).contiguous();
    w.bytes(name).value<std::int32_t>(static_cast<std::int32_t>(t.scalar_type())).value<std::uint64_t>(t.dim());
    for (auto s : t.sizes()) w.value<std::int64_t>(s);
    w.bytes(std::string_view(static_cast<const char*>(t.data_ptr()), t.nbytes()));
  }
  w.value<std::uint64_t>(strings.size());
  for (const auto& [name, v] : strings) {
    w.bytes(name).value<std::uint64_t>(v.size());
    for (const auto& s : v) w.bytes(s);
  }
  w.value<std::uint64_t>(attrs.size());
  for (const auto& [k, v] : attrs) w.bytes(k).bytes(v);
  w.value<std::uint64_t>(numbers.size());
  for (const auto& [k, v] : numbers) w.bytes(k).value<double>(v);
  return w.take();
}

namespace {

// The element types a payload carries; anything else in a message is damage.
std::size_t element_bytes(std::int32_t type, const std::string& name) {
  switch (static_cast<torch::ScalarType>(type)) {
    case torch::kFloat32: case torch::kInt32: return 4;
    case torch::kFloat64: case torch::kInt64: return 8;
    case torch::kFloat16: case torch::kBFloat16: case torch::kInt16: return 2;
    case torch::kUInt8: case torch::kInt8: case torch::kBool: return 1;
    default: fail_run("payload: tensor '{}' has an unknown element type ({})", name, type);
  }
}

torch::Tensor read_tensor(wire::Reader& r, const std::string& name) {
  const auto type = r.value<std::int32_t>();
  const std::size_t element = element_bytes(type, name);
  std::vector<std::int64_t> shape(r.count(sizeof(std::int64_t), "dimensions"));
  for (auto& s : shape) s = r.value<std::int64_t>();
  const auto size = tensor_bytes(shape, static_cast<std::int64_t>(element));
  if (!size) fail_run("payload: tensor '{}' has an impossible shape", name);
  const auto data = r.bytes();
  if (static_cast<std::uint64_t>(*size) != data.size()) fail_run("payload: tensor '{}' has the wrong size", name);
  auto t = torch::empty(shape, torch::TensorOptions().dtype(static_cast<torch::ScalarType>(type)));
  if (!data.empty()) std::memcpy(t.data_ptr(), data.data(), data.size());
  return t;
}

}  // namespace

Payload Payload::deserialize(std::string_view bytes) {
  wire::Reader r(bytes, "payload");
  Payload p;
  for (auto n = r.count(24, "tensors"); n > 0; --n) {
    std::string name = r.string();
    p.tensors[name] = read_tensor(r, name);
  }
  for (auto n = r.count(16, "string lists"); n > 0; --n) {
    std::string name = r.string();
    std::vector<std::string> v(r.count(8, "strings"));
    for (auto& s : v) s = r.string();
    p.strings[name] = std::move(v);
  }
  for (auto n = r.count(16, "attributes"); n > 0; --n) {
    std::string k = r.string();
    p.attrs[k] = r.string();
  }
  for (auto n = r.count(16, "numbers"); n > 0; --n) {
    std::string k = r.string();
    p.numbers[k] = r.value<double>();
  }
  return p;
}

namespace {

template <class Map>
void nest_map(Map& into, const Map& from, const std::string& prefix) {
  for (const auto& [k, v] : from) into[prefix + k] = v;
}

template <class Map>
Map part_of(const Map& from, const std::string& prefix) {
  Map out;
  for (auto it = from.lower_bound(prefix); it != from.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    out[it->first.substr(prefix.size())] = it->second;
  return out;
}

}  // namespace

void Payload::nest(const Payload& p, const std::string& prefix) {
  nest_map(tensors, p.tensors, prefix);
  nest_map(strings, p.strings, prefix);
  nest_map(attrs, p.attrs, prefix);
  nest_map(numbers, p.numbers, prefix);
}

Payload Payload::part(const std::string& prefix) const {
  Payload p;
  p.tensors = part_of(tensors, prefix);
  p.strings = part_of(strings, prefix);
  p.attrs = part_of(attrs, prefix);
  p.numbers = part_of(numbers, prefix);
  return p;
}

}  // namespace strata::workers

#include "core/io/npy.h"

#include <cstring>
#include <fstream>
#include <string>

#include <fmt/ranges.h>

#include "core/util/error.h"
#include "core/util/tensor_bytes.h"

namespace strata::io {

namespace {

struct DtypeCode {
  const char* code;
  torch::ScalarType type;
};
constexpr DtypeCode kDtypes[] = {
    {"<f4", torch::kFloat32}, {"<f2", torch::kFloat16}, {"<f8", torch::kFloat64},
    {"<i8", torch::kInt64},   {"<i4", torch::kInt32},   {"|u1", torch::kUInt8},
};

// The header is a Python dict literal written by numpy; its three keys have fixed shapes: a
// quoted string, True/False, or a tuple. Scanned by hand: a regular expression over a long
// hostile header recurses once per character.
std::string header_field(const std::string& header, const std::string& key, const std::string& file) {
  const std::string quoted = "'" + key + "'";
  std::size_t at = header.find(quoted);
  if (at == std::string::npos) fail_input("{}: npy header has no '{}' entry", file, key);
  at = header.find_first_not_of(" \t", at + quoted.size());
  if (at == std::string::npos || header[at] != ':') fail_input("{}: npy header entry '{}' has no value", file, key);
  at = header.find_first_not_of(" \t", at + 1);
  std::size_t end = std::string::npos;
  if (at != std::string::npos && header[at] == '\'') end = header.find('\'', at + 1);
  else if (at != std::string::npos && header[at] == '(') end = header.find(')', at);
  else if (at != std::string::npos && header.compare(at, 4, "True") == 0) end = at + 3;
  else if (at != std::string::npos && header.compare(at, 5, "False") == 0) end = at + 4;
  if (end == std::string::npos) fail_input("{}: npy header entry '{}' is malformed", file, key);
  return header.substr(at, end - at + 1);
}

// "(3, 4)", "(3,)" or "()": integers separated by commas, one trailing comma allowed, at most
// numpy's 32 dimensions.
std::vector<std::int64_t> parse_shape(const std::string& tuple, const std::string& file) {
  std::vector<std::int64_t> shape;
  if (tuple.size() < 2 || tuple.front() != '(' || tuple.back() != ')')
    fail_input("{}: npy shape {} is not a tuple", file, tuple);
  const std::string inner = tuple.substr(1, tuple.size() - 2);
  std::size_t pos = 0;
  while (pos < inner.size()) {
    const std::size_t comma = inner.find(',', pos);
    std::string part = inner.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    part.erase(0, part.find_first_not_of(" \t"));
    part.erase(part.find_last_not_of(" \t") + 1);
    const bool last = comma == std::string::npos || inner.find_first_not_of(" \t", comma + 1) == std::string::npos;
    if (part.empty()) fail_input("{}: npy shape {} has an empty entry", file, tuple);
    if (part.find_first_not_of("0123456789") != std::string::npos || part.size() > 18)
      fail_input("{}: npy shape {} is not a tuple of integers", file, tuple);
    shape.push_back(std::stoll(part));
    if (shape.size() > 32) fail_input("{}: npy shape {} has more than 32 dimensions", file, tuple);
    if (comma == std::string::npos || last) break;
    pos = comma + 1;
  }
  return shape;
}

}  // namespace

torch::Tensor read_npy(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail_input("{}: not a file (no such file, or a folder?)", file);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_input("{}: cannot open (no such file?)", file);
  const auto file_size = static_cast<std::int64_t>(std::filesystem::file_size(path));
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    fail_input("{}: not a .npy file (bad magic)", file);
  const int major = static_cast<unsigned char>(magic[6]);
  std::uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  } else {
    fail_input("{}: unsupported npy format version {}", file, major);
  }
  if (!in || header_len > 1u << 20) fail_input("{}: npy header length {} is invalid", file, header_len);
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len)) fail_input("{}: truncated npy header", file);

  const std::string descr = header_field(header, "descr", file);
  if (header_field(header, "fortran_order", file) != "False")
    fail_input("{}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray", file);
  const auto shape = parse_shape(header_field(header, "shape", file), file);

  torch::ScalarType type = torch::kFloat32;
  bool found = false;
  for (const auto& d : kDtypes) {
    if (descr == std::string("'") + d.code + "'") {
      type = d.type;
      found = true;
    }
  }
  if (!found) fail_input("{}: npy dtype {} is not supported (use float32, float16, float64, int64)", file, descr);

  // The shape's byte size must be the file's: checked without overflow, whatever it claims.
  const auto size = tensor_bytes(shape, static_cast<std::int64_t>(c10::elementSize(type)));
  if (!size) fail_input("{}: npy shape ({}) is too large for any file", file, fmt::join(shape, ", "));
  const std::int64_t bytes = *size;
  const std::int64_t data_start = static_cast<std::int64_t>(in.tellg());
  if (bytes != file_size - data_start)
    fail_input("{}: header says shape ({}) of {} = {} bytes but the file has {} data bytes", file,
               fmt::join(shape, ", "), descr, bytes, file_size - data_start);
  auto t = torch::empty(shape, torch::TensorOptions().dtype(type));
  if (!in.read(static_cast<char*>(t.data_ptr()), bytes)) fail_input("{}: truncated npy data", file);
  return t;
}

void write_npy(const std::filesystem::path& path, const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.to(torch::kCPU).contiguous();
  const char* code = nullptr;
  for (const auto& d : kDtypes)
    if (d.type == t.scalar_type()) code = d.code;
  if (!code) fail_run("write_npy: unsupported dtype {}", c10::toString(t.scalar_type()));
  std::string shape;
  for (auto s : t.sizes()) shape += std::to_string(s) + ", ";
  if (t.dim() > 1) shape.erase(shape.size() - 2);  // numpy writes (3,) but (3, 4)
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", code,
                                   t.dim() == 1 ? shape.substr(0, shape.size() - 1) : shape);
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  if (!out) fail_input("{}: cannot open for writing", path.string());
  out.write("\x93NUMPY\x01\x00", 8);
  const std::uint16_t len = static_cast<std::uint16_t>(header.size());
  const char lb[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  out.write(lb, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
  if (!out) fail_run("{}: write failed", path.string());
}

}  // namespace strata::io

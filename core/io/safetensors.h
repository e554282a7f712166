#pragma once
// Safetensors weight files (https://github.com/huggingface/safetensors): single files and the
// sharded form (`model.safetensors.index.json` naming one file per tensor).
//
// A file is memory-mapped and its header validated in full before any tensor byte is read:
// header size bounded and inside the file, JSON well formed, every dtype known, shape × dtype
// size equal to each byte span, every span inside the data section, no two spans overlapping.
// Tensors are then exposed as zero-copy CPU views over the mapping; the views keep the mapping
// alive, so they stay valid after the file object is gone.
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace strata::io {

// The header may not be larger than this (the format's reference reader uses the same bound).
inline constexpr std::uint64_t kSafetensorsMaxHeader = 100'000'000;

struct TensorEntry {
  std::string dtype;                // as written in the file: "F32", "BF16", ...
  torch::ScalarType scalar_type;    // the matching torch type
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;          // byte offsets inside the data section, [begin, end)
  std::uint64_t end = 0;
};

class MappedFile;  // read-only memory map of a whole file (RAII)

class SafetensorsFile {
 public:
  // Maps and validates; throws InputError naming the file and the offending tensor or offset.
  explicit SafetensorsFile(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  std::vector<std::string> names() const;  // sorted
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  const TensorEntry& entry(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // A CPU view over the mapped bytes (no copy). Where the data is not aligned to its element
  // size (the format does not promise alignment) the bytes are copied into an aligned tensor.
  // Writing to a view never reaches the file (the mapping is private).
  torch::Tensor view(const std::string& name) const;

 private:
  std::filesystem::path path_;
  std::shared_ptr<MappedFile> map_;
  std::uint64_t data_start_ = 0;  // 8 + header size
  std::map<std::string, TensorEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

// The weights of one model folder: `model.safetensors`, or the shards that
// `model.safetensors.index.json` lists (its weight_map names a file for every tensor).
class SafetensorsStore {
 public:
  // `path` is a .safetensors file, an index .json, or a folder holding one of
  // model.safetensors.index.json / model.safetensors.
  explicit SafetensorsStore(const std::filesystem::path& path);

  std::vector<std::string> names() const;  // sorted
  bool contains(const std::string& name) const { return where_.count(name) != 0; }
  const TensorEntry& entry(const std::string& name) const;
  torch::Tensor view(const std::string& name) const;
  // An owned copy on `device` in `dtype` (the mapping is not referenced afterwards).
  torch::Tensor load(const std::string& name, torch::ScalarType dtype, torch::Device device) const;
  // The weight files in a stable order (sorted by file name).
  std::vector<std::filesystem::path> files() const;
  // Where the store came from (for messages).
  const std::filesystem::path& source() const { return source_; }

 private:
  std::filesystem::path source_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*> where_;
};

// The weight file(s) a model folder holds: the shards of model.safetensors.index.json, or
// model.safetensors. Throws InputError naming the folder when there is neither.
std::vector<std::filesystem::path> safetensors_files(const std::filesystem::path& dir);

// Writes contiguous CPU tensors as one safetensors file (tensors sorted by name, data aligned
// to 8 bytes). Used by tests and tools that build small models.
void write_safetensors(const std::filesystem::path& path,
                       const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace strata::io

#pragma once
// A job's result as data: tensors, string lists and attributes under relative paths. Workers
// produce payloads; the coordinator alone writes them to the archive. Payloads also travel
// between ranks as bytes.
#include <torch/torch.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/io/h5.h"

namespace strata::workers {

struct Payload {
  std::map<std::string, torch::Tensor> tensors;               // "out/gating" -> [N,E]
  std::map<std::string, std::vector<std::string>> strings;    // "text" -> N strings
  std::map<std::string, std::string> attrs;                   // attributes of the object
  std::map<std::string, double> numbers;                      // numeric attributes

  void write(io::h5::Group& g) const;
  // Reads every dataset below `g` (recursively) and the group's own attributes.
  static Payload read(const io::h5::Group& g);

  std::string serialize() const;
  static Payload deserialize(std::string_view bytes);
  std::size_t bytes() const;
  const torch::Tensor& tensor(const std::string& name) const;

  // Several payloads in one (a job of several results): `part`'s entries under `prefix`, and
  // back.
  void nest(const Payload& part, const std::string& prefix);
  Payload part(const std::string& prefix) const;
};

}  // namespace strata::workers

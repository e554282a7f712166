#include "core/data/corpus.h"

#include <algorithm>

#include "core/util/error.h"
#include "core/util/hash.h"

namespace strata {

void Corpus::push_back(std::string text_, std::string source_, std::int64_t label_,
                       std::string id_) {
  text.push_back(std::move(text_));
  source.push_back(std::move(source_));
  label.push_back(label_);
  id.push_back(std::move(id_));
}

void Corpus::append(const Corpus& o) {
  o.check_consistent();
  text.insert(text.end(), o.text.begin(), o.text.end());
  source.insert(source.end(), o.source.begin(), o.source.end());
  label.insert(label.end(), o.label.begin(), o.label.end());
  id.insert(id.end(), o.id.begin(), o.id.end());
}

std::vector<std::string> Corpus::source_names() const {
  std::vector<std::string> names;
  for (const auto& s : source)
    if (std::find(names.begin(), names.end(), s) == names.end()) names.push_back(s);
  return names;
}

std::string Corpus::fingerprint() const {
  check_consistent();
  Sha256 h;
  for (std::size_t i = 0; i < size(); ++i) {
    h.field(text[i]).field(source[i]).field(std::to_string(label[i])).field(id[i]);
  }
  return h.hex();
}

void Corpus::check_consistent() const {
  if (source.size() != text.size() || label.size() != text.size() || id.size() != text.size())
    fail_run("corpus columns differ in length: text {}, source {}, label {}, id {}", text.size(),
             source.size(), label.size(), id.size());
}

}  // namespace strata

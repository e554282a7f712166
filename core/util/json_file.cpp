#include "core/util/json_file.h"

#include <fstream>
#include <iterator>
#include <string>

#include "core/util/error.h"
#include "core/util/json_nesting.h"

namespace strata {

nlohmann::json read_json_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail_input("{}: cannot open the file", file.string());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check_json_nesting(text, file.string());
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail_input("{}: malformed JSON at byte {}: {}", file.string(), e.byte, e.what());
  } catch (const nlohmann::json::exception& e) {  // e.g. a number beyond any double
    fail_input("{}: malformed JSON: {}", file.string(), e.what());
  }
}

}  // namespace strata

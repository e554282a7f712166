#pragma once
// Where strata meet, as text: the points an embedding's geometry job flagged (its neighbours mix
// groups, or its local dimension differs from its group's), with the texts they are.
#include <cstdint>
#include <filesystem>
#include <string>

namespace strata {

// Every /geometry/<embedding> of the archive (or only `embedding`), the `limit` flagged points
// most mixed with other groups first. An archive without geometry says how to get one.
std::string boundary_listing(const std::filesystem::path& archive, const std::string& embedding, std::int64_t limit);

}  // namespace strata

#pragma once
// What an archive holds, as text: corpus, embeddings, runs with status and key metrics,
// and (with tables) the paper's Table 1 and Table 2 for each run.
#include <filesystem>
#include <string>

namespace strata {

std::string summarize_archive(const std::filesystem::path& archive, bool tables);

}  // namespace strata

#include "orchestrator/boundary.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include <fmt/ranges.h>

#include "core/io/h5.h"
#include "core/util/error.h"

namespace strata {

namespace {

// A text on one line, cut to `width` characters (bytes of a UTF-8 sequence are kept whole).
std::string one_line(const std::string& text, std::size_t width) {
  std::string out;
  for (const char c : text) {
    if (out.size() >= width && (static_cast<unsigned char>(c) & 0xC0) != 0x80) return out + "…";
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  return out;
}

std::vector<std::int64_t> ints(const io::h5::Group& g, const std::string& name) {
  const auto t = g.read(name).to(torch::kInt64).contiguous();
  return {t.data_ptr<std::int64_t>(), t.data_ptr<std::int64_t>() + t.numel()};
}

std::vector<double> reals(const io::h5::Group& g, const std::string& name) {
  const auto t = g.read(name).to(torch::kFloat64).contiguous();
  return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
}

std::string listing(const io::h5::Group& root, const std::string& name, std::int64_t limit) {
  const auto g = root.open("geometry/" + name);
  std::string out = fmt::format("{}: points where groups ({}) meet\n", name, g.attr_string("groups").value_or("?"));
  if (!g.exists("boundary/flagged")) {
    const std::string why = g.exists("boundary/flag") ? g.read_strings("boundary/flag").front() : "no boundary readout";
    return out + "  " + why + "\n";
  }
  const auto flagged = ints(g, "boundary/flagged");
  const auto mixing = reals(g, "boundary/mixing");
  const auto ratio = reals(g, "boundary/id_ratio");
  const auto rows = ints(g, "points/rows");
  const auto groups = g.exists("points/groups") ? ints(g, "points/groups") : std::vector<std::int64_t>{};
  const auto values = g.exists("groups/values") ? ints(g, "groups/values") : std::vector<std::int64_t>{};
  const auto names = g.exists("groups/names") ? g.read_strings("groups/names") : std::vector<std::string>{};
  // Token rows (pooling "tokens") are texts' tokens: their text is the text they are in.
  const std::string emb = "embeddings/" + name;
  const auto text_row = root.exists(emb + "/text_row") ? ints(root.open(emb), "text_row") : std::vector<std::int64_t>{};
  const auto texts = root.exists("corpus/text") ? root.read_strings("corpus/text") : std::vector<std::string>{};
  out += fmt::format("  {} of {} analysed points flagged; the {} most mixed:\n", flagged.size(), rows.size(),
                     std::min<std::int64_t>(limit, static_cast<std::int64_t>(flagged.size())));
  std::vector<std::int64_t> order = flagged;
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return mixing[a] > mixing[b]; });
  out += fmt::format("  {:>8} {:<16} {:>7} {:>8}  {}\n", "row", "group", "mixing", "ID/med", "text");
  for (std::size_t i = 0; i < order.size() && static_cast<std::int64_t>(i) < limit; ++i) {
    const auto p = static_cast<std::size_t>(order[i]);
    const auto row = static_cast<std::size_t>(rows.at(p));
    std::string group = "-";
    if (!groups.empty()) {
      const auto label = values.at(static_cast<std::size_t>(groups.at(p)));
      group = label >= 0 && static_cast<std::size_t>(label) < names.size() ? names[static_cast<std::size_t>(label)]
                                                                          : std::to_string(label);
    }
    const std::size_t corpus_row = text_row.empty() ? row : static_cast<std::size_t>(text_row.at(row));
    const std::string text = corpus_row < texts.size() ? one_line(texts[corpus_row], 100) : "";
    out += fmt::format("  {:>8} {:<16} {:>7.2f} {:>8.2f}  {}\n", row, one_line(group, 16), mixing[p], ratio[p], text);
  }
  return out;
}

}  // namespace

std::string boundary_listing(const std::filesystem::path& archive, const std::string& embedding, std::int64_t limit) {
  io::h5::File f(archive, io::h5::File::Mode::read);
  const auto root = f.root();
  if (!root.exists("geometry"))
    fail_input("{}: no geometry in the archive (set [geometry] on = true in the sweep and run it with --resume)",
               archive.string());
  const auto names = root.open("geometry").children();
  if (!embedding.empty() && std::find(names.begin(), names.end(), embedding) == names.end())
    fail_input("{}: no geometry of embedding '{}' (there is: {})", archive.string(), embedding, fmt::join(names, ", "));
  std::string out;
  for (const auto& name : names)
    if (embedding.empty() || name == embedding) out += listing(root, name, limit);
  return out;
}

}  // namespace strata

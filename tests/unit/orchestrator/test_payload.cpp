#include <torch/torch.h>

#include <filesystem>

#include "core/io/h5.h"
#include "tests/catch.hpp"
#include "workers/payload.h"

using namespace strata;

TEST_CASE("a payload read back from the archive is the one written, less the job's bookkeeping", "[payload]") {
  const auto file = std::filesystem::temp_directory_path() / "strata-payload.h5";
  workers::Payload p;
  p.tensors["data"] = torch::arange(6, torch::kFloat32).reshape({2, 3});
  p.tensors["out/gating"] = torch::ones({2, 2}, torch::kFloat64);
  p.strings["text"] = {"a", "b"};
  p.attrs["model_path"] = "/models/x";
  p.numbers["max_tokens"] = 64;
  {
    io::h5::File f(file, io::h5::File::Mode::create_truncate);
    auto g = f.root().require("embeddings/x");
    p.write(g);
    g.set_attr("job_id", std::string("abc"));
    g.set_attr("status", std::string("done"));
    g.set_attr("rank", std::int64_t{3});
    g.set_attr("seconds", 1.5);
  }
  io::h5::File f(file, io::h5::File::Mode::read);
  const auto q = workers::Payload::read(f.root().open("embeddings/x"));
  CHECK(torch::equal(q.tensor("data"), p.tensors["data"]));
  CHECK(torch::equal(q.tensor("out/gating"), p.tensors["out/gating"]));
  CHECK(q.strings.at("text") == p.strings["text"]);
  CHECK(q.attrs == std::map<std::string, std::string>{{"model_path", "/models/x"}});
  CHECK(q.numbers == std::map<std::string, double>{{"max_tokens", 64.0}, {"seconds", 1.5}});
  std::filesystem::remove(file);
}

// A job's result payload: the same after the trip between ranks (serialize, deserialize) and
// after the trip through the archive (write, read), whatever it holds; a dangling soft link in
// the archive is not part of it.
#include <torch/torch.h>

#include "core/io/h5.h"
#include "core/util/error.h"
#include "tests/catch.hpp"
#include "tests/test_support.h"
#include "workers/payload.h"

namespace {

strata::workers::Payload sample() {
  strata::workers::Payload p;
  p.tensors["out/gating"] = torch::rand({5, 3}, torch::kFloat64);
  p.tensors["out/strata"] = torch::arange(7, torch::kInt64);
  p.tensors["params/w"] = torch::randn({2, 2, 2}).to(torch::kFloat32);
  p.tensors["empty"] = torch::empty({0, 4}, torch::kFloat32);
  p.tensors["scalar"] = torch::tensor(2.5, torch::kFloat64);
  p.strings["text"] = {"one", "", std::string("nul\0inside", 10), "ünïcode"};
  p.attrs["doc"] = "{\"a\": 1}";
  p.numbers["seconds"] = 0.125;
  return p;
}

void check_same(const strata::workers::Payload& a, const strata::workers::Payload& b) {
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    INFO(name);
    CHECK(b.tensors.at(name).scalar_type() == t.scalar_type());
    CHECK(torch::equal(b.tensors.at(name), t));
  }
  CHECK(a.strings == b.strings);
  CHECK(a.attrs == b.attrs);
  CHECK(a.numbers == b.numbers);
}

}  // namespace

TEST_CASE("a payload survives the trip between ranks bit for bit", "[payload]") {
  const auto p = sample();
  check_same(p, strata::workers::Payload::deserialize(p.serialize()));
  const auto bytes = p.serialize();
  CHECK_THROWS_AS(strata::workers::Payload::deserialize(std::string_view(bytes).substr(0, bytes.size() - 3)),
                  strata::RunError);
}

TEST_CASE("a payload survives the archive, and a dangling soft link is not part of it", "[payload]") {
  namespace h5 = strata::io::h5;
  const auto file = strata::test::scratch_dir("payload") / "p.h5";
  auto p = sample();
  p.strings["text"].erase(p.strings["text"].begin() + 2);  // HDF5 strings end at a NUL
  {
    h5::File f(file, h5::File::Mode::create_truncate);
    auto g = f.root().require("result");
    p.write(g);
    g.soft_link("gone", "/nowhere/at/all");
  }
  h5::File f(file, h5::File::Mode::read);
  const auto g = f.root().open("result");
  CHECK(g.kind("gone") == h5::Group::Kind::none);
  CHECK(g.kind("out") == h5::Group::Kind::group);
  CHECK(g.kind("text") == h5::Group::Kind::strings);
  CHECK(g.kind("scalar") == h5::Group::Kind::numbers);
  CHECK(g.kind("absent") == h5::Group::Kind::none);
  auto back = strata::workers::Payload::read(g);
  CHECK(back.tensors.count("gone") == 0);
  CHECK(back.strings.count("gone") == 0);
  check_same(p, back);
}

TEST_CASE("a payload read back from the archive is the one written, less the job's bookkeeping", "[payload]") {
  namespace h5 = strata::io::h5;
  const auto file = strata::test::scratch_dir("payload-bookkeeping") / "p.h5";
  strata::workers::Payload p;
  p.tensors["data"] = torch::arange(6, torch::kFloat32).reshape({2, 3});
  p.tensors["out/gating"] = torch::ones({2, 2}, torch::kFloat64);
  p.strings["text"] = {"a", "b"};
  p.attrs["model_path"] = "/models/x";
  p.numbers["max_tokens"] = 64;
  {
    h5::File f(file, h5::File::Mode::create_truncate);
    auto g = f.root().require("embeddings/x");
    p.write(g);
    g.set_attr("job_id", std::string("abc"));
    g.set_attr("status", std::string("done"));
    g.set_attr("rank", std::int64_t{3});
    g.set_attr("seconds", 1.5);
  }
  h5::File f(file, h5::File::Mode::read);
  const auto q = strata::workers::Payload::read(f.root().open("embeddings/x"));
  CHECK(torch::equal(q.tensor("data"), p.tensors["data"]));
  CHECK(torch::equal(q.tensor("out/gating"), p.tensors["out/gating"]));
  CHECK(q.strings.at("text") == p.strings["text"]);
  CHECK(q.attrs == std::map<std::string, std::string>{{"model_path", "/models/x"}});
  CHECK(q.numbers == std::map<std::string, double>{{"max_tokens", 64.0}, {"seconds", 1.5}});
}

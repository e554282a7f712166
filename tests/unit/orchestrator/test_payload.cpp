// A job's result payload: the same after the trip between ranks (serialize, deserialize) and
// after the trip through the archive (write, read), whatever it holds; a dangling soft link in
// the archive is not part of it.
#include <torch/torch.h>

#include "core/io/h5.h"
#include "core/util/error.h"
#include "tests/catch.hpp"
#include "core/util/wire.h"
#include "orchestrator/job_messages.h"
#include "tests/test_support.h"
#include "workers/executor.h"
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

namespace {

// A payload of one tensor whose header says what the test wants.
std::string one_tensor(std::int32_t type, std::vector<std::int64_t> shape, std::size_t data_bytes) {
  strata::wire::Writer w;
  w.value<std::uint64_t>(1).bytes("t").value(type).value<std::uint64_t>(shape.size());
  for (auto s : shape) w.value(s);
  w.bytes(std::string(data_bytes, '\0')).value<std::uint64_t>(0).value<std::uint64_t>(0).value<std::uint64_t>(0);
  return w.take();
}

}  // namespace

TEST_CASE("a damaged payload is a RunError before anything is allocated", "[payload]") {
  using strata::workers::Payload;
  const auto f32 = static_cast<std::int32_t>(torch::kFloat32);
  CHECK(Payload::deserialize(one_tensor(f32, {2, 3}, 24)).tensor("t").sizes() == torch::IntArrayRef({2, 3}));
  CHECK_THROWS_WITH(Payload::deserialize(one_tensor(99, {2}, 8)), strata::test::HasSubstring("unknown element type"));
  CHECK_THROWS_WITH(Payload::deserialize(one_tensor(f32, {-1, 2}, 8)), strata::test::HasSubstring("impossible shape"));
  CHECK_THROWS_WITH(Payload::deserialize(one_tensor(f32, {1LL << 40, 1LL << 40}, 8)),
                    strata::test::HasSubstring("impossible shape"));
  CHECK_THROWS_WITH(Payload::deserialize(one_tensor(f32, {2, 3}, 20)), strata::test::HasSubstring("wrong size"));
  // No elements, but strides that overflow: refused before the tensor is made.
  CHECK(Payload::deserialize(one_tensor(f32, {0, 5}, 0)).tensor("t").sizes() == torch::IntArrayRef({0, 5}));
  CHECK_THROWS_WITH(Payload::deserialize(one_tensor(f32, {0, 1LL << 40, 1LL << 40}, 0)),
                    strata::test::HasSubstring("impossible shape"));
  // A count of items far beyond the message's bytes (a vector of 2^60 would be allocated).
  strata::wire::Writer w;
  w.value<std::uint64_t>(0).value<std::uint64_t>(1).bytes("text").value<std::uint64_t>(1ULL << 60);
  CHECK_THROWS_WITH(Payload::deserialize(w.take()), strata::test::HasSubstring("more than its bytes hold"));
}

TEST_CASE("job messages and outcomes come back as sent; damaged ones are RunErrors", "[payload]") {
  strata::workers::JobRequest r;
  r.object = "/trained/ab";
  r.id = "ab";
  r.kind = "train";
  r.spec = {{"atoms", 8}};
  r.inputs = {{"embedding", "/embeddings/m"}};
  r.ranks = 2;
  const auto input = sample();
  const strata::JobMessage m{r.serialize(), "", {"/old"}, {{"/embeddings/m", input}}};
  const auto back = strata::JobMessage::decode(m.encode(), "job message");
  CHECK(back.request == m.request);
  CHECK(back.drops == m.drops);
  REQUIRE(back.inputs.size() == 1);
  check_same(back.inputs[0].second, input);
  const auto request = strata::workers::JobRequest::deserialize(back.request);
  CHECK((request.inputs == r.inputs));
  CHECK(request.ranks == 2);
  for (const char* bad : {"not json", "[]", R"({"object": 1})",
                          R"({"object":"/a","id":"a","kind":"train","spec":{},"affinity":"","inputs":[["x"]],"cost":1,"ranks":1})",
                          R"({"object":"/a","id":"a","kind":"train","spec":{},"affinity":"","inputs":[],"cost":1,"ranks":1e300})"}) {
    INFO(bad);
    CHECK_THROWS_AS(strata::workers::JobRequest::deserialize(bad), strata::RunError);
  }
  strata::Outcome o;
  o.object = "/trained/ab";
  o.ok = true;
  o.seconds = 1.5;
  o.payload = sample();
  o.inputs_held = 3;
  const auto bytes = strata::encode_outcome(o);
  const auto got = strata::decode_outcome(bytes, 4);
  CHECK(got.rank == 4);
  CHECK(got.inputs_held == 3);
  check_same(got.payload, o.payload);
  CHECK_THROWS_WITH(strata::decode_outcome(std::string_view(bytes).substr(0, bytes.size() - 1), 4),
                    Catch::Matchers::StartsWith("outcome from rank 4: truncated message"));
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

// The binary message format between ranks: what is written comes back in order, and a message
// cut short is a RunError naming the message, never a read past its end.
#include <cstdint>
#include <string>

#include "core/util/error.h"
#include "core/util/wire.h"
#include "tests/catch.hpp"

namespace wire = strata::wire;

TEST_CASE("wire: values and byte strings come back in the order written", "[wire]") {
  const std::string zeros("a\0b", 3);
  wire::Writer w;
  w.value(true).value(-2.5).bytes("").bytes(zeros).value<std::int32_t>(-7).value<std::uint64_t>(1ULL << 40);
  const std::string msg = w.take();
  wire::Reader r(msg, "test message");
  CHECK(r.value<bool>());
  CHECK(r.value<double>() == -2.5);
  CHECK(r.string().empty());
  CHECK(r.string() == zeros);
  CHECK(r.value<std::int32_t>() == -7);
  CHECK_FALSE(r.done());
  CHECK(r.value<std::uint64_t>() == (1ULL << 40));
  CHECK(r.done());
}

TEST_CASE("wire: a truncated message is a RunError naming it", "[wire]") {
  wire::Writer w;
  w.bytes("hello").value(3.0);
  const std::string msg = w.take();
  for (std::size_t cut = 0; cut < msg.size(); ++cut) {
    wire::Reader r(std::string_view(msg).substr(0, cut), "outcome from rank 3");
    const auto read_all = [&] {
      (void)r.string();
      (void)r.value<double>();
    };
    CHECK_THROWS_WITH(read_all(), Catch::Matchers::StartsWith("outcome from rank 3: truncated message"));
  }
  // A length prefix far beyond the message is refused without allocating it.
  wire::Writer huge;
  huge.value<std::uint64_t>(~0ULL);
  const std::string bad = huge.take();
  wire::Reader r(bad, "payload");
  CHECK_THROWS_AS(r.bytes(), strata::RunError);
}

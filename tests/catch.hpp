#pragma once
// One include for Catch2 v2 (Debian 12) and v3 (Ubuntu 24.04): tests use Catch::Approx,
// Catch::Matchers and the TEST_CASE/REQUIRE macros, which both versions spell the same.
// The one matcher whose name differs is the substring matcher: v3 renamed it
// ContainsSubstring and gave the name Contains to a range matcher, so tests say
// strata::test::HasSubstring, which is the right one on either version.
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
// v2 keeps Approx in Catch::Detail; v3 has it as Catch::Approx. (Without this, Catch::Approx
// names v2's vector matcher, which Catch imports from Catch::Matchers.)
namespace Catch {
using Detail::Approx;
}  // namespace Catch
#endif

#include <string>

namespace strata::test {

inline auto HasSubstring(const std::string& part) {
#if CATCH_VERSION_MAJOR >= 3
  return Catch::Matchers::ContainsSubstring(part);
#else
  return Catch::Matchers::Contains(part);
#endif
}

}  // namespace strata::test

#pragma once
// One include for Catch2 v2 (Debian 12) and v3 (Ubuntu 24.04): tests use Catch::Approx,
// Catch::Matchers and the TEST_CASE/REQUIRE macros, which both versions spell the same.
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif

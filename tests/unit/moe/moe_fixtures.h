#pragma once
// MoE configurations for tests, written as the settings that differ from the defaults and read
// through the MoE's own schema (so a test's configuration meets the rules a sweep's does).
#include <nlohmann/json.hpp>

#include "core/moe/config.h"

namespace strata::test {

inline moe::MoeConfig moe_config(const nlohmann::json& settings) {
  return spec::from_json<moe::MoeConfig>(settings, "test configuration");
}

}  // namespace strata::test

// SPDX-License-Identifier: Apache-2.0
// run/summary.h: the human summary of a finished run (stderr), from the run document alone.
#pragma once
#include <nlohmann/json.hpp>

namespace pb {
void print_summary(const nlohmann::json& run);
}  // namespace pb

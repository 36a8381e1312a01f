// SPDX-License-Identifier: Apache-2.0
// common/json_io.h: writing results. A results file is either complete and valid or absent: written to a
// temp file in the same directory, fsync'd, then renamed over the target. Non-finite numbers are
// never written: sanitize() turns them into null (and the writer refuses to emit NaN/Inf at all).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace pb {

// Replaces every NaN/Inf number in place by null; returns how many were replaced.
size_t sanitize_json(nlohmann::json& j);
// Atomically writes j (pretty-printed) to path. Throws Error(kExitEnv) with context on failure.
void write_json_atomic(const std::string& path, nlohmann::json j);

}  // namespace pb

// SPDX-License-Identifier: Apache-2.0
// common/clock.h: monotonic nanoseconds for measurements, UTC wall time for the record.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace pb {

inline uint64_t mono_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}
std::string utc_now_iso8601();  // 2026-11-28T00:40:00Z
std::string utc_now_compact();  // 20261128T004000Z, for directory names

}  // namespace pb

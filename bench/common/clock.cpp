// SPDX-License-Identifier: Apache-2.0
#include "common/clock.h"

#include <ctime>

namespace pb {

static std::string fmt_utc(const char* f) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, f, &tm);
  return buf;
}
std::string utc_now_iso8601() { return fmt_utc("%Y-%m-%dT%H:%M:%SZ"); }
std::string utc_now_compact() { return fmt_utc("%Y%m%dT%H%M%SZ"); }

}  // namespace pb

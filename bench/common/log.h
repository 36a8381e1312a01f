// SPDX-License-Identifier: Apache-2.0
// common/log.h: one logger for the whole process. Messages go to stderr; debug ones (libbpf's own log
// among them) only with -v. Thread-safe, line-buffered.
#pragma once
#include <fmt/core.h>
#include <string>
#include <string_view>

namespace pb::log {

enum class Level { kDebug, kInfo, kWarn, kError };

void set_verbose(bool v);
bool verbose();
void write(Level level, std::string_view msg);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (verbose()) write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace pb::log

// SPDX-License-Identifier: Apache-2.0
#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace pb::log {
namespace {
std::atomic<bool> g_verbose{false};
std::mutex g_mu;
}  // namespace

void set_verbose(bool v) { g_verbose = v; }
bool verbose() { return g_verbose; }

void write(Level level, std::string_view msg) {
  const char* tag = "";
  switch (level) {
    case Level::kDebug: tag = "debug: "; break;
    case Level::kInfo: tag = ""; break;
    case Level::kWarn: tag = "warning: "; break;
    case Level::kError: tag = "error: "; break;
  }
  std::lock_guard<std::mutex> lk(g_mu);
  std::fprintf(stderr, "pathbench: %s%.*s\n", tag, static_cast<int>(msg.size()), msg.data());
}

}  // namespace pb::log

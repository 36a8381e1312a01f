// SPDX-License-Identifier: Apache-2.0
#include "measure/cpu.h"

#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace pb {

CpuTimes CpuTimes::now() {
  CpuTimes t;
  FILE* f = std::fopen("/proc/stat", "re");
  if (!f) return t;
  unsigned long long v[8] = {};
  if (std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                  &v[4], &v[5], &v[6], &v[7]) < 8) {
    std::fclose(f);
    return t;
  }
  std::fclose(f);
  static const uint64_t ns_per_tick = 1000000000ull / static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
  t.user = v[0] * ns_per_tick;
  t.nice = v[1] * ns_per_tick;
  t.system = v[2] * ns_per_tick;
  t.idle = v[3] * ns_per_tick;
  t.iowait = v[4] * ns_per_tick;
  t.irq = v[5] * ns_per_tick;
  t.softirq = v[6] * ns_per_tick;
  t.steal = v[7] * ns_per_tick;
  return t;
}

CpuUsage CpuUsage::between(const CpuTimes& a, const CpuTimes& b) {
  auto d = [](uint64_t x, uint64_t y) { return y > x ? y - x : 0; };
  CpuUsage u;
  u.user_ns = d(a.user + a.nice, b.user + b.nice);
  u.sys_ns = d(a.system, b.system);
  u.softirq_ns = d(a.softirq, b.softirq);
  u.irq_ns = d(a.irq, b.irq);
  u.busy_ns = d(a.busy(), b.busy());
  u.idle_ns = d(a.idle + a.iowait, b.idle + b.iowait);
  uint64_t tot = u.busy_ns + u.idle_ns;
  u.utilization = tot ? static_cast<double>(u.busy_ns) / static_cast<double>(tot) : 0.0;
  return u;
}

nlohmann::json CpuUsage::to_json() const {
  return {{"user_ns", user_ns},   {"sys_ns", sys_ns},   {"softirq_ns", softirq_ns},
          {"irq_ns", irq_ns},     {"busy_ns", busy_ns}, {"idle_ns", idle_ns},
          {"utilization", utilization}};
}

}  // namespace pb

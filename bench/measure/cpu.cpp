// SPDX-License-Identifier: Apache-2.0
#include "measure/cpu.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <nlohmann/json.hpp>

namespace pb {

CpuTimes CpuTimes::parse(const std::string& values) {
  static const uint64_t ns_per_tick = 1000000000ull / static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
  std::istringstream in(values);
  uint64_t v[8] = {};
  for (auto& x : v) in >> x;
  CpuTimes t;
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

CpuTimes CpuTimes::now() {
  std::ifstream f("/proc/stat");
  std::string label, rest;
  if (!(f >> label) || label != "cpu" || !std::getline(f, rest)) return {};
  return parse(rest);
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

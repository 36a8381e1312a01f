// SPDX-License-Identifier: Apache-2.0
// measure/cpu.h: machine-wide CPU time from /proc/stat over a measured window. No hardware counters here
// (perf reports "not supported" in this VM), so CPU cost is time: user, system, softirq, irq.
// Machine-wide on purpose: the softirq work of forwarding lands on whichever CPU takes the
// packet, not on our threads.
#pragma once
#include <cstdint>
#include <string>
#include <nlohmann/json_fwd.hpp>

namespace pb {

struct CpuTimes {
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  static CpuTimes now();  // aggregate "cpu" line, in ns
  // The values of one /proc/stat "cpu" or "cpuN" line (after the label), ticks -> ns.
  static CpuTimes parse(const std::string& values);
  uint64_t busy() const { return user + nice + system + irq + softirq + steal; }
  uint64_t total() const { return busy() + idle + iowait; }
};

struct CpuUsage {
  uint64_t user_ns = 0, sys_ns = 0, softirq_ns = 0, irq_ns = 0, busy_ns = 0, idle_ns = 0;
  double utilization = 0;  // busy / (busy + idle) over all CPUs
  static CpuUsage between(const CpuTimes& a, const CpuTimes& b);
  nlohmann::json to_json() const;
};

}  // namespace pb

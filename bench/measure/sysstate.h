// SPDX-License-Identifier: Apache-2.0
// measure/sysstate.h: the machine's state around a measured window, recorded with every result
// so a reader can tell a repetition that ran in an abnormal state from a real difference
// (docs/noise.md: what was ruled in and out):
//   - steal time and per-CPU busy/softirq/system/user time (/proc/stat),
//   - busy time on CPUs the workload did not use: foreign load on a shared machine,
//   - context switches (/proc/stat ctxt), NET_RX/NET_TX softirqs per CPU (/proc/softirqs),
//   - packets and bytes on every data interface of the three roles, hence bytes per packet
//     through the DUT (64 KB GSO batches or MTU frames: a different batching state changes the
//     cost per byte several-fold),
//   - a CPU speed probe: fixed integer work timed by thread CPU time before and after, which
//     catches a host that delivers fewer cycles per CPU-second (frequency, a busy sibling),
//   - a memory copy probe, for what the integer probe cannot see (cache and memory bandwidth).
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "measure/cpu.h"

namespace pb {

class Roles;

struct IfCounters {
  uint64_t rx_bytes = 0, rx_packets = 0, tx_bytes = 0, tx_packets = 0, rx_drops = 0, tx_drops = 0;
};

struct SysSnapshot {
  std::vector<CpuTimes> per_cpu;
  uint64_t ctxt = 0;
  std::vector<uint64_t> net_rx, net_tx;   // softirq counts per CPU
  std::map<std::string, IfCounters> ifs;  // data interfaces of the three roles, by name
  static SysSnapshot take(const Roles* roles);
};

// The difference between two snapshots as run.json's metrics.system_state (results/README.md).
// workload_cpus: the CPUs the workload's threads were pinned to (empty: all CPUs).
nlohmann::json sys_between(const SysSnapshot& a, const SysSnapshot& b, const std::vector<int>& workload_cpus);

// Nanoseconds per million iterations of a fixed integer loop on a thread pinned to `cpu`
// (-1: unpinned), measured with the thread's CPU-time clock, best of 3 (about 7 ms in all).
double cpu_speed_probe(int cpu);

// Nanoseconds per MiB of memcpy between two 4 MiB buffers (larger than a core's L2, within a
// typical shared L3) on a thread pinned to `cpu`, wall clock, best of 3 (a few ms): the integer
// probe cannot see a neighbour that takes cache or memory bandwidth, which copy-bound workloads
// (tcp_stream: a copy into and out of every skb) feel first.
// nullopt when the buffers cannot be mapped (recorded as null, never as a number).
std::optional<double> memory_speed_probe(int cpu);

}  // namespace pb

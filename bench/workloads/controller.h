// SPDX-License-Identifier: Apache-2.0
// workloads/controller.h: the one controller every workload runs under (neper's shape), socket
// generators and live-frame injection alike. It walks the phases warm-up -> measure -> cool-down
// -> stop, snapshots counters, /proc/stat and the system state at the window's edges, and runs
// the watchdog: a load whose completed work does not move for --stall-timeout-s fails.
//
//   controller (calling thread)           Load (the workload's own threads)
//   speed probe                            
//   load.start()  ─────────────────────▶  generators start, responder/sink serving
//   wait warm-up (watchdog, interrupts)
//   snapshot; phase = measure; window_start()
//   wait duration (watchdog)
//   window_end(); phase = cool-down; snapshot
//   wait cool-down; phase = stop; load.stop() ──▶ join everything
//   speed probe
#pragma once
#include <atomic>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "measure/cpu.h"
#include "workloads/workload.h"

namespace pb::workload {

enum Phase : int { kWarmup = 0, kMeasure = 1, kCooldown = 2, kStop = 3 };

// The phase, shared with the load's threads (they read it, the controller writes it).
struct Phases {
  std::atomic<int> phase{kWarmup};
  bool measuring() const { return phase.load(std::memory_order_relaxed) == kMeasure; }
  bool stopping() const { return phase.load(std::memory_order_relaxed) == kStop; }
};

class Load {
 public:
  virtual ~Load() = default;
  virtual void start(Phases& ph) = 0;       // start the threads; warm-up begins
  // Completed work so far, monotonic: bytes or datagrams that reached the other end, transactions
  // that came back. Attempts (a request sent into a void) are not progress, or a hung responder
  // would look busy.
  virtual uint64_t progress() const = 0;
  virtual std::string error() const = 0;    // first failure of a thread, "" while none
  // Fetch progress counters kept elsewhere, so progress() moves between the window's edges (hosts
  // mode: the server host's responder counts what a stream or pps load delivered, and its counters
  // reach this host only when asked). Called by the controller every kRefreshNs; cheap no-op locally.
  virtual void refresh() {}
  virtual void window_start() {}            // counters at the start of the measured window
  virtual void window_end() {}
  virtual void stop() = 0;                  // stop and join everything; idempotent
  // Fault injection (common/testhook.h "stall-responder"): the server side stops serving.
  virtual void stall_server() {}
  // Load-specific state for metrics.system_state (the congestion control in force, TCP_INFO).
  virtual nlohmann::json state() const { return nlohmann::json::object(); }
  // Why the watchdog fired, in this load's terms.
  virtual std::string stall_reason(double seconds) const;
};

struct Window {
  uint64_t start_ns = 0, end_ns = 0;
  CpuUsage cpu;
  nlohmann::json system_state;  // measure/sysstate.h, plus the speed probe
  uint64_t tcp_retransmits = 0;
  nlohmann::json kernel_profile;  // measure/kprofile.h, with --kernel-profile-ns (null: off)
  double seconds() const { return static_cast<double>(end_ns - start_ns) / 1e9; }
};

// Runs the phases; fills `win`; returns "" or the failure reason (watchdog, interrupt, errors).
std::string drive(const WorkloadContext& ctx, const WorkloadOptions& opt, const WorkloadInfo& info, Load& load,
                  Window& win);

}  // namespace pb::workload

// SPDX-License-Identifier: Apache-2.0
// kernel/bpf/stats.h: what BPF programs cost and count: run-time statistics (run_cnt,
// run_time_ns), sampled rather than left on, and per-CPU counter maps summed over CPUs.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "pb_shared.h"

namespace pb::bpf {

static_assert(sizeof(pb_counter) == 16, "pb_counter layout is shared with bpf/pb_shared.h");

// How BPF run-time statistics are used (`pathbench run --bpf-stats`, process-wide):
//   sample  on for a sample inside each workload's warm-up, off while measuring (default)
//   off     never on (in-kernel program cost is then not reported)
//   always  on for whole workloads (the measurement then pays their cost: see StatsEnabler)
enum class StatsMode { kSample, kOff, kAlways };
void set_stats_mode(StatsMode m);
StatsMode stats_mode();
const char* stats_mode_name(StatsMode m);

// BPF run-time statistics (run_cnt, run_time_ns per program), on while this object lives.
// Uses the BPF_ENABLE_STATS bpf() command, not the kernel.bpf_stats_enabled sysctl: stats stay on
// only while the returned fd is open, so a killed process turns them off by itself (a sysctl
// write would stay behind), and we never touch a host-wide knob. `--bpf-stats off` leaves them
// off.
//
// Stats are not free: every program run then reads the clock twice, and on this VM (kvm pvclock)
// that cost xdp_pps a third of its rate (xdp-redirect 3.1-3.3 Mpps without, 1.96 with; baseline
// 1.3 vs 1.03, through the generator, pass and sink programs), far above the ~25 ns/run of
// the ~25 ns/run measured on another machine. So measurements never run with stats on: use StatsSampler.
class StatsEnabler {
 public:
  StatsEnabler();
  ~StatsEnabler();
  StatsEnabler(const StatsEnabler&) = delete;
  StatsEnabler& operator=(const StatsEnabler&) = delete;
  bool enabled() const { return fd_ >= 0; }
  const std::string& reason() const { return reason_; }  // why not enabled

 private:
  int fd_ = -1;
  std::string reason_;
};

// Turns BPF run-time stats on for a bounded time, from start() until `seconds` later (a
// background thread closes the stats fd) or stop(). Callers sample program cost during a
// workload's warm-up, so the measured window runs without the stats' overhead.
// With `--bpf-stats always` they stay on until stop() (the whole workload).
class StatsSampler {
 public:
  StatsSampler() = default;
  ~StatsSampler() { stop(); }
  StatsSampler(const StatsSampler&) = delete;
  StatsSampler& operator=(const StatsSampler&) = delete;
  // in_warmup: the sample falls in the workload's warm-up (else it overlaps the measurement).
  void start(double seconds, bool in_warmup);
  void stop();                                      // idempotent; joins the thread
  bool enabled() const { return enabled_; }         // did enabling succeed (last start)
  const std::string& reason() const { return reason_; }
  uint64_t enabled_ns() const { return on_ns_; }    // how long they were on (after stop)
  nlohmann::json to_json() const;                   // {"enabled", "window", "enabled_ms"|"reason"}

 private:
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, enabled_ = false, always_ = false, in_warmup_ = true;
  std::string reason_;
  uint64_t on_ns_ = 0;
};

// How long to sample BPF stats for a workload: most of its warm-up (at most 0.5 s), or, without
// a warm-up, a tenth of the measured window (the overlap is then recorded).
double stats_sample_seconds(double warmup_s, double duration_s);
inline bool stats_sample_in_warmup(double warmup_s) { return warmup_s > 0.02; }

struct ProgStats {
  uint64_t run_cnt = 0;
  uint64_t run_time_ns = 0;
  uint32_t id = 0;
  std::string name;
};
ProgStats prog_stats(int prog_fd);  // throws BpfError

// Sum over CPUs of a per-CPU array of pb_counter / __u64 values, entries [0, n).
std::vector<pb_counter> read_percpu_counters(int map_fd, uint32_t n);
std::vector<uint64_t> read_percpu_u64(int map_fd, uint32_t n);
// Sum over CPUs of entry 0 of a per-CPU array whose value is `words` u64 fields.
std::vector<uint64_t> read_percpu_record(int map_fd, uint32_t words);

// IDs of every BPF program loaded on the machine (bpf_prog_get_next_id); for leak checks.
std::vector<uint32_t> loaded_prog_ids();

}  // namespace pb::bpf

// SPDX-License-Identifier: Apache-2.0
#include "kernel/bpf/stats.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"

namespace pb::bpf {

namespace {
std::atomic<StatsMode> g_stats_mode{StatsMode::kSample};
}  // namespace

void set_stats_mode(StatsMode m) { g_stats_mode = m; }
StatsMode stats_mode() { return g_stats_mode; }
const char* stats_mode_name(StatsMode m) {
  static const char* const names[] = {"sample", "off", "always"};
  return names[static_cast<int>(m)];
}

StatsEnabler::StatsEnabler() {
  if (stats_mode() == StatsMode::kOff) {
    reason_ = "disabled (--bpf-stats off)";
    return;
  }
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) {
    reason_ = errno_msg("bpf(BPF_ENABLE_STATS, BPF_STATS_RUN_TIME)", -fd);
    log::warn("{}: in-kernel program cost will not be measured", reason_);
    return;
  }
  fd_ = fd;
}

StatsEnabler::~StatsEnabler() {
  if (fd_ >= 0) close(fd_);
}

double stats_sample_seconds(double warmup_s, double duration_s) {
  if (stats_sample_in_warmup(warmup_s)) return std::min(0.5, warmup_s * 0.8);
  return std::max(0.01, std::min(0.2, duration_s * 0.1));
}

void StatsSampler::start(double seconds, bool in_warmup) {
  stop();
  in_warmup_ = in_warmup;
  always_ = stats_mode() == StatsMode::kAlways;
  auto en = std::make_shared<StatsEnabler>();
  enabled_ = en->enabled();
  reason_ = en->reason();
  on_ns_ = 0;
  if (!enabled_) return;
  stop_ = false;
  const uint64_t t0 = mono_ns();
  thread_ = std::thread([this, en, seconds, t0]() mutable {
    std::unique_lock<std::mutex> lk(mu_);
    if (always_)
      cv_.wait(lk, [&] { return stop_; });
    else
      cv_.wait_for(lk, std::chrono::duration<double>(seconds), [&] { return stop_; });
    en.reset();  // closes the fd: stats off
    on_ns_ = mono_ns() - t0;
  });
}

void StatsSampler::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

nlohmann::json StatsSampler::to_json() const {
  nlohmann::json j = {{"enabled", enabled_}};
  if (!enabled_) {
    j["reason"] = reason_;
    return j;
  }
  j["window"] = always_     ? "whole workload (--bpf-stats always)"
                : in_warmup_ ? "sampled at the start of the workload (warm-up), off while measuring"
                             : "sampled at the start of the measured window (no warm-up): those "
                               "packets paid the stats' cost";
  j["enabled_ms"] = static_cast<double>(on_ns_) / 1e6;
  return j;
}

ProgStats prog_stats(int prog_fd) {
  bpf_prog_info info{};
  __u32 len = sizeof(info);
  int err = bpf_obj_get_info_by_fd(prog_fd, &info, &len);
  if (err) throw BpfError(errno_msg("bpf_obj_get_info_by_fd(prog)", -err));
  ProgStats s;
  s.run_cnt = info.run_cnt;
  s.run_time_ns = info.run_time_ns;
  s.id = info.id;
  s.name = info.name;
  return s;
}

template <class T>
static std::vector<T> read_percpu(int map_fd, uint32_t n) {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) throw BpfError(errno_msg("libbpf_num_possible_cpus", -ncpu));
  static_assert(sizeof(T) % 8 == 0, "per-CPU values are 8-byte aligned in the kernel's copy");
  std::vector<T> out(n), vals(static_cast<size_t>(ncpu));
  for (uint32_t k = 0; k < n; ++k) {
    if (bpf_map_lookup_elem(map_fd, &k, vals.data()))
      throw BpfError(errno_msg("bpf_map_lookup_elem(per-CPU counters)", errno));
    for (auto& v : vals) {
      if constexpr (std::is_same_v<T, pb_counter>) {
        out[k].packets += v.packets;
        out[k].bytes += v.bytes;
      } else {
        out[k] += v;
      }
    }
  }
  return out;
}

std::vector<pb_counter> read_percpu_counters(int map_fd, uint32_t n) {
  return read_percpu<pb_counter>(map_fd, n);
}
std::vector<uint64_t> read_percpu_u64(int map_fd, uint32_t n) {
  return read_percpu<uint64_t>(map_fd, n);
}

std::vector<uint64_t> read_percpu_record(int map_fd, uint32_t words) {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) throw BpfError(errno_msg("libbpf_num_possible_cpus", -ncpu));
  std::vector<uint64_t> vals(static_cast<size_t>(ncpu) * words), out(words);
  uint32_t key = 0;
  if (bpf_map_lookup_elem(map_fd, &key, vals.data()))
    throw BpfError(errno_msg("bpf_map_lookup_elem(per-CPU record)", errno));
  for (int c = 0; c < ncpu; ++c)
    for (uint32_t w = 0; w < words; ++w) out[w] += vals[static_cast<size_t>(c) * words + w];
  return out;
}

std::vector<uint32_t> loaded_prog_ids() {
  std::vector<uint32_t> ids;
  __u32 id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) ids.push_back(id);
  return ids;
}

}  // namespace pb::bpf

// SPDX-License-Identifier: Apache-2.0
#include <fmt/core.h>

#include "workloads/controller.h"

#include <thread>

#include "common/clock.h"
#include "common/testhook.h"
#include "measure/kprofile.h"
#include "measure/snmp.h"
#include "measure/sysstate.h"
#include "roles/roles.h"

namespace pb::workload {

std::string Load::stall_reason(double seconds) const {
  return fmt::format("watchdog: no progress for {:.1f} s (generator or responder stalled)", seconds);
}

static uint64_t retransmits(const Roles& roles) {
  uint64_t n = 0;
  for (const Role* r : {&roles.client(), &roles.server()})
    if (r->local) n += read_snmp(r->netns)["Tcp.RetransSegs"];
  return n;
}

std::string drive(const WorkloadContext& ctx, const WorkloadOptions& opt, const WorkloadInfo& info, Load& load,
                  Window& win) {
  const bool tcp = info.protocol == Protocol::kTcp && info.transport == Transport::kSocket;
  std::vector<int> cpus;
  for (int c : {opt.client_cpu, opt.server_cpu})
    if (c >= 0 && std::find(cpus.begin(), cpus.end(), c) == cpus.end()) cpus.push_back(c);
  const double speed_before = cpu_speed_probe(opt.client_cpu);
  const auto memory_before = memory_speed_probe(opt.client_cpu);

  // Loaded before the load starts, counting only inside the window.
  std::unique_ptr<KernelProfiler> prof;
  if (kernel_profile_ns()) prof = std::make_unique<KernelProfiler>(kernel_profile_ns());

  Phases ph;
  std::string failure;
  load.start(ph);
  uint64_t last_progress = load.progress(), last_change = mono_ns();
  // The measured window's progress, sampled every kSliceNs: where in the window the work was done
  // (a host stall shows as a slice with little progress). Recorded as metrics.system_state.slices.
  constexpr uint64_t kSliceNs = 20000000;
  std::vector<uint64_t> slice_t, slice_p;
  uint64_t slice_t0 = 0, slice_p0 = 0;
  bool slicing = false;
  // Without this a remote responder's counters stand still between the window's edges, and the
  // watchdog took a stream longer than --stall-timeout-s for a stalled one.
  constexpr uint64_t kRefreshNs = 500000000;
  uint64_t last_refresh = mono_ns();
  auto wait_phase = [&](double seconds) {
    const uint64_t until = mono_ns() + static_cast<uint64_t>(seconds * 1e9);
    while (failure.empty() && mono_ns() < until) {
      uint64_t left = until - mono_ns();
      std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<uint64_t>(left, slicing ? kSliceNs : 50000000)));
      if (ctx.interrupted && ctx.interrupted->load()) {
        failure = "interrupted by signal " + std::to_string(ctx.interrupted->load());
        break;
      }
      if (mono_ns() - last_refresh >= kRefreshNs) {
        load.refresh();
        last_refresh = mono_ns();
      }
      uint64_t p = load.progress(), now = mono_ns();
      if (slicing) {
        slice_t.push_back(now - slice_t0);
        slice_p.push_back(p - slice_p0);
      }
      if (p != last_progress) {
        last_progress = p;
        last_change = now;
      } else if (static_cast<double>(now - last_change) / 1e9 > opt.stall_timeout_s) {
        failure = load.stall_reason(opt.stall_timeout_s);
      }
      if (failure.empty()) {
        std::string e = load.error();
        if (!e.empty()) failure = e;
      }
    }
  };
  wait_phase(opt.warmup_s);
  if (failure.empty()) {
    uint64_t retrans0 = tcp ? retransmits(ctx.roles) : 0;
    SysSnapshot s0 = SysSnapshot::take(&ctx.roles);
    CpuTimes c0 = CpuTimes::now();
    win.start_ns = mono_ns();
    ph.phase = kMeasure;
    load.window_start();
    if (prof) prof->start();
    slice_p0 = load.progress();
    slice_t0 = mono_ns();
    slicing = true;
    if (fault_injected("stall-responder")) load.stall_server();
    wait_phase(opt.duration_s);
    load.window_end();
    if (prof) win.kernel_profile = prof->stop();
    slicing = false;
    ph.phase = kCooldown;
    win.end_ns = mono_ns();
    CpuTimes c1 = CpuTimes::now();
    win.cpu = CpuUsage::between(c0, c1);
    win.system_state = sys_between(s0, SysSnapshot::take(&ctx.roles), cpus);
    if (tcp) win.tcp_retransmits = retransmits(ctx.roles) - retrans0;
    if (failure.empty()) wait_phase(opt.cooldown_s);
  }
  ph.phase = kStop;
  load.stop();
  if (failure.empty()) failure = load.error();
  if (!win.system_state.is_object()) win.system_state = nlohmann::json::object();
  win.system_state["tcp_cc"] = nullptr;
  win.system_state["slices"] = {{"t_ns", slice_t}, {"progress", slice_p}};
  const nlohmann::json extra = load.state();
  for (auto& [k, v] : extra.items()) win.system_state[k] = v;
  win.system_state["cpu_speed_ns_per_mop"] = {{"before", speed_before}, {"after", cpu_speed_probe(opt.client_cpu)}};
  const auto memory_after = memory_speed_probe(opt.client_cpu);
  auto or_null = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  win.system_state["memory_copy_ns_per_mib"] = {{"before", or_null(memory_before)}, {"after", or_null(memory_after)}};
  return failure;
}

}  // namespace pb::workload

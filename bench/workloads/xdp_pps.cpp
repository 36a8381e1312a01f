// SPDX-License-Identifier: Apache-2.0
// workloads/xdp_pps.cpp ↔ bpf/xdp_pps.bpf.c: small-packet forwarding rate with a generator that
// is not the bottleneck. A socket sender tops out far below what XDP forwards (docs/gotchas.md
// "A socket sender measures itself"), so frames are injected in the kernel, the way
// xdp-trafficgen does it:
//
//   client ns                         DUT ns (path under test)              server ns
//   [xdp_gen under BPF_PROG_RUN,      dut0 ... routed by the path ... dut1  srv0 [xdp_sink:
//    live frames, XDP_TX on cli0] --> (dut0 runs some XDP program, so it --> count matching
//                                      accepts XDP frames: docs/gotchas.md)          UDP, XDP_DROP]
//
// BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES runs xdp_gen with ctx ingress_ifindex = cli0; its
// XDP_TX becomes a transmit on cli0 (a redirect to the same device), so the frames enter the DUT
// like frames from a wire. xdp_gen rewrites the 42 header bytes on every run because live frames
// reuse pages that a forwarding program downstream has rewritten in place (docs/gotchas.md "Live frames reuse pages").
// Frames: Ethernet dst = dut0's MAC, 198.18.1.1 -> target ip:port, UDP, 42 + payload bytes
// (default payload 18: a 60-byte frame, 64 on the wire with the FCS).
//
// The sink on srv0 means nothing reaches the server's stack; paths that terminate traffic in a
// proxy cannot carry it (transport "frames": PathInstance::unsupported_workload). On paths
// that already own srv0's XDP link (xdp-redirect's xdp_pass), the sink is swapped into that link
// for the run and swapped back (kernel/bpf/attach.h XdpOverride).
//
// Runs under the shared controller (workloads/controller.h): the generator thread is the load,
// the sink's per-CPU counter is its progress, both counters are read at the window's edges
// (warm-up and cool-down cut). Sent = frames the generator handed to cli0; frames the veth ring
// refuses are lost before the DUT and show as loss.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "kernel/bpf/attach.h"
#include "kernel/bpf/skeleton.h"
#include "kernel/bpf/stats.h"
#include "kernel/host.h"
#include "kernel/netns.h"
#include "kernel/process.h"
#include "measure/snmp.h"
#include "roles/packet_fixtures.h"
#include "roles/roles.h"
#include "workloads/controller.h"
#include "workloads/workload.h"
#include "xdp_pass.skel.h"
#include "xdp_pps.skel.h"

namespace pb {
namespace {

using namespace pb::bpf;

constexpr uint32_t kBatchSize = 64;       // frames per NAPI-like batch inside one BPF_PROG_RUN
constexpr uint32_t kChunk = 1u << 14;     // repetitions per BPF_PROG_RUN call (a few ms)
constexpr uint32_t kMaxPayload = 1472;    // 1500-byte MTU
// Unpaced: one BPF_PROG_RUN with a huge repeat count, ended by a signal. Every BPF_PROG_RUN of an
// XDP program adds it to and removes it from the kernel's XDP dispatcher, and each change waits
// for an RCU grace period (milliseconds on a busy 2-CPU VM, measured: chunks of 16k frames gave
// a tenth of the achievable rate). The kernel checks signal_pending() between batches and returns
// -EINTR, so a signal sent to the generator thread ends the call promptly.
constexpr uint32_t kRepeatUnpaced = 2000000000u;

int stop_signal() { return SIGRTMIN + 7; }

// Keeps xdp_gen in the kernel's XDP dispatcher for the run, so that paced runs (many short
// BPF_PROG_RUN calls) do not wait for an RCU grace period on every call (measured: 8k frames/s
// when 200k were asked). A program attached to a device stays in the dispatcher, and the test
// run then only moves a refcount. Attached in native mode to one end of a veth pair created,
// and left down, in the client namespace for this purpose only: it never receives a frame.
// (No dummy device: this kernel has no dummy driver.)
class DispatcherAnchor {
 public:
  DispatcherAnchor(const std::string& ns, int prog_fd) : ns_(ns) {
    try {
      run_cmd({"ip", "-n", ns_, "link", "del", kDev});  // a leftover of a killed run, if any
      run_cmd_checked({"ip", "-n", ns_, "link", "add", kDev, "type", "veth", "peer", "name", "pbanchor1"});
      created_ = true;
      link_ = std::make_unique<XdpLink>(ns_, kDev, prog_fd);
    } catch (const std::exception& e) {
      reason_ = e.what();
      log::warn("xdp_pps: no XDP dispatcher anchor ({}); paced runs will be slow", reason_);
    }
  }
  ~DispatcherAnchor() {
    link_.reset();
    if (created_) {
      try {
        run_cmd({"ip", "-n", ns_, "link", "del", kDev});
      } catch (const std::exception& e) {
        log::warn("xdp_pps: removing {} in {}: {}", kDev, ns_, e.what());
      }
    }
  }
  bool active() const { return link_ != nullptr; }

 private:
  static constexpr const char* kDev = "pbanchor0";
  std::string ns_, reason_;
  bool created_ = false;
  std::unique_ptr<XdpLink> link_;
};

void install_stop_signal() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};  // only there to interrupt the syscall (no SA_RESTART)
    sigemptyset(&sa.sa_mask);
    sigaction(stop_signal(), &sa, nullptr);
  });
}

struct Counts {
  uint64_t gen = 0, sink = 0;
};

Counts read_counts(int map_fd) {
  auto v = read_percpu_u64(map_fd, PB_PPS_COUNTERS);
  return {v[PB_PPS_GEN_TX], v[PB_PPS_SINK_MATCH]};
}

// The probe: can this kernel run an XDP program on live frames? Runs xdp_sink once on a frame
// it matches, so the verdict is XDP_DROP and nothing is transmitted or delivered anywhere, in a
// throwaway empty namespace at that.
std::optional<std::string> live_frames_unsupported() {
  if (!is_root()) return "needs root (CAP_BPF, CAP_NET_ADMIN) for BPF_PROG_RUN with live frames";
  try {
    SkelPtr<xdp_pps> s(open_skeleton<xdp_pps>("xdp_pps"));
    fixtures::PacketSpec spec;
    spec.daddr = fixtures::ip4("198.19.255.254");
    spec.dport = 9;
    s->rodata->sink_daddr = spec.daddr;
    s->rodata->sink_dport = htons(spec.dport);
    load_skeleton(s.get(), "xdp_pps");
    auto pkt = fixtures::build_packet(spec);
    bpf_test_run_opts o{};
    o.sz = sizeof(o);
    o.data_in = pkt.data();
    o.data_size_in = static_cast<__u32>(pkt.size());
    o.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
    o.repeat = 1;
    int err = 0;
    run_in_throwaway_netns([&] { err = bpf_prog_test_run_opts(bpf_program__fd(s->progs.xdp_sink), &o); });
    if (err == -EINVAL)
      return "the kernel refuses BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES (needs Linux 5.18+); "
             "use udp_pps (socket sender) instead";
    // As root, EPERM/EACCES is not a missing capability of ours: the kernel's policy (lockdown,
    // an LSM) or the sandbox around us (a seccomp filter, a container runtime) refuses live
    // frames. Said so, with what it affects and how to look, instead of the raw errno.
    if (err == -EPERM || err == -EACCES)
      return "the kernel or a security policy forbids BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES (" +
             std::string(err == -EPERM ? "EPERM" : "EACCES") +
             " as root): xdp_pps is skipped, nothing else is affected (every other workload and path runs); "
             "check with `grep -E '^(CapEff|Seccomp):' /proc/self/status` (capabilities, a seccomp filter), "
             "`cat /sys/kernel/security/lockdown` and `dmesg | grep -i -e bpf -e lockdown`";
    if (err) return errno_msg("BPF_PROG_RUN(xdp_sink, live frames)", -err);
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

// The generator (a thread running xdp_gen under BPF_PROG_RUN with live frames on cli0) and the
// sink (xdp_sink on srv0), as the controller's load.
class XdpPpsLoad : public workload::Load {
 public:
  XdpPpsLoad(const WorkloadContext& ctx, const WorkloadOptions& opt) : ctx_(ctx), opt_(opt) {
    const Wiring& w = ctx.roles.wiring();
    const std::string& cli = ctx.roles.client().netns;
    payload_ = std::max<uint32_t>(opt.payload_bytes, 1);
    fixtures::PacketSpec spec;  // dst MAC: the DUT's client side; src: the client
    spec.dst = fixtures::parse_mac(w.dut_client_mac.c_str());
    spec.src = fixtures::parse_mac(w.client_mac.c_str());
    spec.saddr = fixtures::ip4(w.client_ip.c_str());
    spec.daddr = fixtures::ip4(ctx.target.ip.c_str());
    spec.dport = ctx.target.port;
    spec.sport = 40000;
    spec.payload = payload_;
    pkt_ = fixtures::build_packet(spec);
    pps_ = open_and_load<xdp_pps>("xdp_pps", [&](xdp_pps* s) {
      s->rodata->sink_daddr = spec.daddr;
      s->rodata->sink_dport = htons(spec.dport);
    });
    std::copy(pkt_.begin(), pkt_.begin() + PB_PPS_HDR_LEN, pps_->bss->pkt_hdr);
    pass_ = open_and_load<xdp_pass>("xdp_pass (" + w.dut_client_dev + ")");
    gen_fd_ = bpf_program__fd(pps_->progs.xdp_gen);
    sink_fd_ = bpf_program__fd(pps_->progs.xdp_sink);
    counters_fd_ = bpf_map__fd(pps_->maps.pps_counters);
    cli_if_ = ifindex_in_netns(cli, w.client_dev);
    if (!cli_if_) throw EnvError(w.client_dev + " not found in namespace " + cli);
    // dut0 must run some XDP program to accept frames transmitted by XDP on its peer
    // (docs/gotchas.md "A veth receiving XDP frames needs an XDP program"); on paths without one
    // (baseline, tc-redirect) xdp_pass goes there for the run.
    dut0_ = std::make_unique<XdpOverride>(ctx.roles.dut().netns, w.dut_client_dev,
                                          bpf_program__fd(pass_->progs.xdp_pass), true);
    sink_ = std::make_unique<XdpOverride>(ctx.roles.server().netns, w.server_dev, sink_fd_, false);
    anchor_ = std::make_unique<DispatcherAnchor>(cli, gen_fd_);
    total0_ = read_counts(counters_fd_);
    gen0_ = prog_stats(gen_fd_);
    sink0_ = prog_stats(sink_fd_);
  }
  ~XdpPpsLoad() override { stop(); }

  void start(workload::Phases&) override {
    // The generator's and sink's own cost: BPF stats sampled during the warm-up only (with
    // stats on, every run reads the clock twice: a third of the rate here; kernel/bpf/stats.h).
    stats_.start(stats_sample_seconds(opt_.warmup_s, opt_.duration_s), stats_sample_in_warmup(opt_.warmup_s));
    install_stop_signal();
    gen_ = std::thread([this] { generate(); });
  }
  uint64_t progress() const override { return read_counts(counters_fd_).sink; }
  std::string error() const override { return gen_failed_.load() ? gen_error_ : std::string(); }
  std::string stall_reason(double s) const override {
    const Wiring& w = ctx_.roles.wiring();
    return fmt::format("no injected frame reached the sink on {} for {} s (the DUT does not forward them, or {} "
                       "refuses XDP frames)", w.server_dev, s, w.dut_client_dev);
  }
  void window_start() override {
    if (stats_sample_in_warmup(opt_.warmup_s)) stats_.stop();  // normally already off; never on while measuring
    snmp0_ = read_snmp(ctx_.roles.dut().netns);
    w0_ = read_counts(counters_fd_);
  }
  void window_end() override {
    w1_ = read_counts(counters_fd_);
    snmp1_ = read_snmp(ctx_.roles.dut().netns);
  }
  void stop() override {
    stop_ = true;
    if (gen_.joinable()) {
      // The flag, then the signal until the thread has left the syscall (a signal landing just
      // before it entered the kernel would be missed once).
      while (!gen_done_) {
        pthread_kill(gen_.native_handle(), stop_signal());
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      gen_.join();
    }
    stats_.stop();
  }

  WorkloadResult finish(const workload::Window& win, const std::string& failure) {
    WorkloadResult r;
    const Counts total1 = read_counts(counters_fd_);
    r.totals.packets_sent = total1.gen - total0_.gen;
    r.totals.packets_received = total1.sink - total0_.sink;
    r.totals.bytes_sent = r.totals.packets_sent * payload_;
    if (!failure.empty()) {
      r.reason = failure;
      return r;
    }
    const double secs = win.seconds();
    const uint64_t tx = w1_.gen - w0_.gen, rx = w1_.sink - w0_.sink;
    const ProgStats gen1 = prog_stats(gen_fd_), sink1 = prog_stats(sink_fd_);
    nlohmann::json m;
    m["duration_ns"] = win.end_ns - win.start_ns;
    m["packets_per_s"] = static_cast<double>(rx) / secs;
    m["throughput_bps"] = static_cast<double>(rx) * payload_ * 8.0 / secs;  // payload bits, as udp_pps
    m["udp_sent"] = tx;
    m["udp_received"] = rx;
    m["udp_loss_ratio"] = tx ? 1.0 - std::min(1.0, static_cast<double>(rx) / static_cast<double>(tx)) : 0.0;
    m["sent_packets_per_s"] = static_cast<double>(tx) / secs;
    m["frame_bytes"] = pkt_.size();
    m["dut_ip_forw_datagrams"] = snmp1_["Ip.ForwDatagrams"] - snmp0_["Ip.ForwDatagrams"];
    m["cpu"] = win.cpu.to_json();
    m["system_state"] = win.system_state;
    if (!win.kernel_profile.is_null()) m["kernel_profile"] = win.kernel_profile;
    if (rx) m["cpu_ns_per_packet"] = static_cast<double>(win.cpu.busy_ns) / static_cast<double>(rx);
    const uint64_t repeat = opt_.rate_pps ? std::clamp<uint64_t>(opt_.rate_pps / 1000, 1, kChunk) : kRepeatUnpaced;
    m["generator"] = {{"method", "BPF_PROG_RUN + BPF_F_TEST_XDP_LIVE_FRAMES, XDP_TX on " + ctx_.roles.wiring().client_dev},
                      {"batch_size", kBatchSize},
                      {"repeat_per_call", repeat},
                      {"paced", opt_.rate_pps != 0},
                      {"bpf_stats", stats_.to_json()},
                      {"dispatcher_anchor", anchor_->active()},
                      {"dut0_xdp", dut0_->action()},
                      {"srv0_sink", sink_->action()}};
    auto per_run = [](const ProgStats& a, const ProgStats& b) {
      uint64_t n = b.run_cnt - a.run_cnt;
      return n ? static_cast<double>(b.run_time_ns - a.run_time_ns) / static_cast<double>(n) : 0.0;
    };
    if (stats_.enabled()) {
      m["generator"]["xdp_gen_ns_per_run"] = per_run(gen0_, gen1);
      m["generator"]["xdp_sink_ns_per_run"] = per_run(sink0_, sink1);
    }
    r.metrics = std::move(m);
    if (rx == 0) {
      r.reason = "no injected frame reached the sink on " + ctx_.roles.wiring().server_dev + " in the measured window";
      return r;
    }
    r.ok = true;
    return r;
  }

 private:
  void generate() {
    try {
      ScopedNetns in(ctx_.roles.client().netns);  // ctx ingress_ifindex is resolved in the caller's namespace
      sigset_t ss;
      sigemptyset(&ss);
      sigaddset(&ss, stop_signal());
      pthread_sigmask(SIG_UNBLOCK, &ss, nullptr);
      pin_thread(opt_.client_cpu);
      xdp_md xctx{};
      xctx.data_end = static_cast<__u32>(pkt_.size());
      xctx.ingress_ifindex = cli_if_;
      uint32_t chunk = kRepeatUnpaced;
      if (opt_.rate_pps) chunk = static_cast<uint32_t>(std::clamp<uint64_t>(opt_.rate_pps / 1000, 1, kChunk));
      bpf_test_run_opts o{};
      o.sz = sizeof(o);
      o.data_in = pkt_.data();
      o.data_size_in = static_cast<__u32>(pkt_.size());
      o.ctx_in = &xctx;
      o.ctx_size_in = sizeof(xctx);
      o.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
      o.batch_size = kBatchSize;
      o.repeat = chunk;
      const uint64_t t0 = mono_ns();
      uint64_t injected = 0;
      while (!stop_.load(std::memory_order_relaxed)) {
        if (opt_.rate_pps) {  // pace: the next chunk leaves when the schedule says
          uint64_t due = t0 + injected * 1000000000ull / opt_.rate_pps;
          uint64_t now = mono_ns();
          if (due > now) std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<uint64_t>(due - now, 10000000)));
          if (mono_ns() < due) continue;
        }
        int err = bpf_prog_test_run_opts(gen_fd_, &o);
        if (err && err != -EINTR) {
          gen_error_ = errno_msg("BPF_PROG_RUN(xdp_gen, live frames, ifindex " + ctx_.roles.wiring().client_dev + ")", -err);
          gen_failed_ = true;
          break;
        }
        injected += chunk;
      }
    } catch (const std::exception& e) {
      gen_error_ = e.what();
      gen_failed_ = true;
    }
    gen_done_ = true;
  }

  const WorkloadContext& ctx_;
  const WorkloadOptions& opt_;
  uint32_t payload_ = 18;
  std::vector<uint8_t> pkt_;
  // Declaration order = reverse destruction order: attachments go before their programs.
  SkelPtr<xdp_pps> pps_;
  SkelPtr<xdp_pass> pass_;
  int gen_fd_ = -1, sink_fd_ = -1, counters_fd_ = -1;
  unsigned cli_if_ = 0;
  std::unique_ptr<XdpOverride> dut0_, sink_;
  std::unique_ptr<DispatcherAnchor> anchor_;
  StatsSampler stats_;
  std::thread gen_;
  std::atomic<bool> stop_{false}, gen_done_{false}, gen_failed_{false};
  std::string gen_error_;  // written by the generator before gen_failed_
  Counts total0_, w0_, w1_;
  ProgStats gen0_, sink0_;
  std::map<std::string, uint64_t> snmp0_, snmp1_;
};

WorkloadResult run_xdp_pps(const WorkloadContext& ctx, const WorkloadOptions& opt) {
  if (opt.payload_bytes > kMaxPayload) {
    WorkloadResult r;
    r.reason = fmt::format("payload {} bytes does not fit the 1500-byte MTU (max {})", opt.payload_bytes, kMaxPayload);
    return r;
  }
  XdpPpsLoad load(ctx, opt);
  workload::Window win;
  std::string failure = workload::drive(ctx, opt, ctx.workload, load, win);
  return load.finish(win, failure);
}

PB_REGISTER_WORKLOAD([] {
  WorkloadInfo w;
  w.name = "xdp_pps";
  w.description = "small UDP frames injected in the kernel (BPF_PROG_RUN live frames) into cli0, "
                  "counted and dropped by XDP on srv0; forwarded packets/s";
  w.order = 60;
  w.protocol = Protocol::kUdp;
  w.transport = Transport::kFrames;
  w.pattern = Pattern::kPps;
  w.primary_metric = "packets_per_s";
  w.cpu_metric = "cpu_ns_per_packet";
  w.default_payload = 18;
  w.max_payload = kMaxPayload;
  w.unsupported = live_frames_unsupported;
  w.run = run_xdp_pps;
  return w;
});

}  // namespace
}  // namespace pb

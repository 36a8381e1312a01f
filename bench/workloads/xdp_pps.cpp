// workloads/xdp_pps.cpp: small-packet forwarding rate with a generator that is not the
// bottleneck (issue 3). A socket sender tops out far below what XDP forwards (FIELD-NOTES), so
// frames are injected in the kernel, the way xdp-trafficgen does it:
//
//   client ns                         DUT ns (path under test)              server ns
//   [xdp_gen under BPF_PROG_RUN,      dut0 ... routed by the path ... dut1  srv0 [xdp_sink:
//    live frames, XDP_TX on cli0] --> (dut0 runs some XDP program, so it --> count matching
//                                      accepts XDP frames: gotcha 2)          UDP, XDP_DROP]
//
// BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES runs xdp_gen with ctx ingress_ifindex = cli0; its
// XDP_TX becomes a transmit on cli0 (a redirect to the same device), so the frames enter the DUT
// like frames from a wire. xdp_gen rewrites the 42 header bytes on every run because live frames
// reuse pages that a forwarding program downstream has rewritten in place (gotcha 7).
// Frames: Ethernet dst = dut0's MAC, 198.18.1.1 -> target ip:port, UDP, 42 + payload bytes
// (default payload 18: a 60-byte frame, 64 on the wire with the FCS).
//
// The sink on srv0 means nothing reaches the server's stack; paths that do not route (proxies)
// declare this workload unsupported in their own PathInstance::unsupported_workload. On paths
// that already own srv0's XDP link (xdp-redirect's xdp_pass), the sink is swapped into that link
// for the run and swapped back (bpf_util XdpOverride).
//
// Counted in the measured window only (warm-up and cool-down cut): the generator's and sink's
// per-CPU counters are read at the window edges. Sent = frames the generator handed to cli0;
// frames the veth ring refuses are lost before the DUT and show as loss.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/bpf_fixtures.h"
#include "core/bpf_util.h"
#include "core/cpu.h"
#include "core/log.h"
#include "core/path.h"
#include "core/topology.h"
#include "core/util.h"
#include "core/workload.h"
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

bool stop_requested(const WorkloadContext& ctx) {
  return ctx.interrupted && ctx.interrupted->load(std::memory_order_relaxed) != 0;
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
    if (err) return errno_msg("BPF_PROG_RUN(xdp_sink, live frames)", -err);
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

WorkloadResult run_xdp_pps(const WorkloadContext& ctx, const WorkloadOptions& opt) {
  WorkloadResult r;
  const std::string& cli = ctx.topo.cli();
  const std::string& dut = ctx.topo.dut();
  const std::string& srv = ctx.topo.srv();
  const uint32_t payload = std::max<uint32_t>(opt.payload_bytes, 1);
  if (payload > kMaxPayload) {
    r.reason = fmt::format("payload {} bytes does not fit the 1500-byte MTU (max {})", payload, kMaxPayload);
    return r;
  }

  fixtures::PacketSpec spec;  // dst MAC dut0, src MAC cli0, 198.18.1.1 -> target
  spec.daddr = fixtures::ip4(ctx.target.ip.c_str());
  spec.dport = ctx.target.port;
  spec.sport = 40000;
  spec.payload = payload;
  const std::vector<uint8_t> pkt = fixtures::build_packet(spec);

  SkelPtr<xdp_pps> pps(open_skeleton<xdp_pps>("xdp_pps"));
  pps->rodata->sink_daddr = spec.daddr;
  pps->rodata->sink_dport = htons(spec.dport);
  load_skeleton(pps.get(), "xdp_pps");
  std::copy(pkt.begin(), pkt.begin() + PB_PPS_HDR_LEN, pps->bss->pkt_hdr);
  SkelPtr<xdp_pass> pass(open_skeleton<xdp_pass>("xdp_pass (dut0)"));
  load_skeleton(pass.get(), "xdp_pass (dut0)");
  const int gen_fd = bpf_program__fd(pps->progs.xdp_gen);
  const int sink_fd = bpf_program__fd(pps->progs.xdp_sink);
  const int counters_fd = bpf_map__fd(pps->maps.pps_counters);
  const unsigned cli_if = ifindex_in_netns(cli, Addr::kClientDev);
  if (!cli_if) throw EnvError(std::string(Addr::kClientDev) + " not found in namespace " + cli);

  // The generator's and sink's own cost: BPF stats sampled during the warm-up only (they cost
  // a third of the rate here when on; see bpf_util.h StatsSampler).
  StatsSampler stats;
  // dut0 must run some XDP program to accept frames transmitted by XDP on its peer (gotcha 2);
  // on paths without one (baseline, tc-redirect) xdp_pass goes there for the run.
  XdpOverride dut0(dut, Addr::kDutClientDev, bpf_program__fd(pass->progs.xdp_pass), true);
  XdpOverride sink(srv, Addr::kServerDev, sink_fd, false);
  DispatcherAnchor anchor(cli, gen_fd);

  const Counts total0 = read_counts(counters_fd);
  const ProgStats gen0 = prog_stats(gen_fd), sink0 = prog_stats(sink_fd);
  stats.start(stats_sample_seconds(opt.warmup_s, opt.duration_s), stats_sample_in_warmup(opt.warmup_s));
  install_stop_signal();
  std::atomic<bool> stop{false}, gen_done{false};
  std::atomic<uint64_t> calls{0};
  std::string gen_error;               // written by the generator; read after it is joined
  std::atomic<bool> gen_failed{false};  // ... or through this flag while it runs
  std::thread gen([&] {
    try {
      ScopedNetns in(cli);  // ctx ingress_ifindex is resolved in the caller's namespace
      sigset_t ss;
      sigemptyset(&ss);
      sigaddset(&ss, stop_signal());
      pthread_sigmask(SIG_UNBLOCK, &ss, nullptr);
      if (opt.client_cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(opt.client_cpu, &set);
        pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
      }
      xdp_md xctx{};
      xctx.data_end = static_cast<__u32>(pkt.size());
      xctx.ingress_ifindex = cli_if;
      uint32_t chunk = kRepeatUnpaced;
      if (opt.rate_pps) chunk = static_cast<uint32_t>(std::clamp<uint64_t>(opt.rate_pps / 1000, 1, kChunk));
      bpf_test_run_opts o{};
      o.sz = sizeof(o);
      o.data_in = pkt.data();
      o.data_size_in = static_cast<__u32>(pkt.size());
      o.ctx_in = &xctx;
      o.ctx_size_in = sizeof(xctx);
      o.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
      o.batch_size = kBatchSize;
      o.repeat = chunk;
      const uint64_t t0 = mono_ns();
      uint64_t injected = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (opt.rate_pps) {  // pace: the next chunk leaves when the schedule says
          uint64_t due = t0 + injected * 1000000000ull / opt.rate_pps;
          uint64_t now = mono_ns();
          if (due > now) std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<uint64_t>(due - now, 10000000)));
          if (mono_ns() < due) continue;
        }
        int err = bpf_prog_test_run_opts(gen_fd, &o);
        if (err && err != -EINTR) {
          gen_error = errno_msg("BPF_PROG_RUN(xdp_gen, live frames, ifindex cli0)", -err);
          gen_failed = true;
          break;
        }
        injected += chunk;
        calls.fetch_add(1, std::memory_order_relaxed);
      }
    } catch (const std::exception& e) {
      gen_error = e.what();
      gen_failed = true;
    }
    gen_done = true;
  });
  // Stops and joins the generator: the flag, then the signal until the thread has left the
  // syscall (a signal landing just before it entered the kernel would be missed once).
  auto stop_gen = [&] {
    stop = true;
    if (!gen.joinable()) return;
    while (!gen_done) {
      pthread_kill(gen.native_handle(), stop_signal());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    gen.join();
  };
  struct Joiner {
    std::function<void()> f;
    ~Joiner() { f(); }
  } joiner{stop_gen};

  // Sleeps up to `secs`, returning early (false) on interruption or a dead generator.
  auto wait = [&](double secs) {
    const uint64_t until = mono_ns() + static_cast<uint64_t>(secs * 1e9);
    while (mono_ns() < until) {
      if (stop_requested(ctx) || gen_failed) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<uint64_t>(50, (until - mono_ns()) / 1000000 + 1)));
    }
    return true;
  };

  auto fail = [&](std::string why) {
    stop_gen();
    r.ok = false;
    r.reason = gen_error.empty() ? std::move(why) : gen_error;
    Counts c = read_counts(counters_fd);
    r.totals.packets_sent = c.gen - total0.gen;
    r.totals.packets_received = c.sink - total0.sink;
    r.totals.bytes_sent = r.totals.packets_sent * payload;
    return r;
  };

  if (!wait(opt.warmup_s)) return fail(stop_requested(ctx) ? "interrupted" : "generator stopped during warm-up");
  if (stats_sample_in_warmup(opt.warmup_s)) stats.stop();  // normally already off; never on while measuring
  auto snmp0 = read_snmp(dut);
  const CpuTimes cpu0 = CpuTimes::now();
  const Counts w0 = read_counts(counters_fd);
  const uint64_t t0 = mono_ns();
  // Measured window with a watchdog: the sink count must move at least every stall timeout.
  {
    const uint64_t until = t0 + static_cast<uint64_t>(opt.duration_s * 1e9);
    uint64_t last_sink = w0.sink, last_move = t0;
    while (mono_ns() < until) {
      if (stop_requested(ctx)) return fail("interrupted");
      if (gen_failed) return fail("generator failed");
      std::this_thread::sleep_for(std::chrono::milliseconds(
          std::min<uint64_t>(100, (until - std::min(until, mono_ns())) / 1000000 + 1)));
      uint64_t s = read_counts(counters_fd).sink, now = mono_ns();
      if (s != last_sink) {
        last_sink = s;
        last_move = now;
      } else if (now - last_move > static_cast<uint64_t>(opt.stall_timeout_s * 1e9)) {
        return fail(fmt::format("no injected frame reached the sink on {} for {} s (the DUT does "
                                "not forward them, or {} refuses XDP frames)",
                                Addr::kServerDev, opt.stall_timeout_s, Addr::kDutClientDev));
      }
    }
  }
  const Counts w1 = read_counts(counters_fd);
  const uint64_t t1 = mono_ns();
  const CpuTimes cpu1 = CpuTimes::now();
  auto snmp1 = read_snmp(dut);
  wait(opt.cooldown_s);
  stop_gen();
  const Counts total1 = read_counts(counters_fd);

  r.totals.packets_sent = total1.gen - total0.gen;
  r.totals.packets_received = total1.sink - total0.sink;
  r.totals.bytes_sent = r.totals.packets_sent * payload;

  const double secs = static_cast<double>(t1 - t0) / 1e9;
  const uint64_t tx = w1.gen - w0.gen, rx = w1.sink - w0.sink;
  const CpuUsage cpu = CpuUsage::between(cpu0, cpu1);
  stats.stop();  // stats were only on while sampling: these counts cover that sample
  const ProgStats gen1 = prog_stats(gen_fd), sink1 = prog_stats(sink_fd);
  nlohmann::json m;
  m["duration_ns"] = t1 - t0;
  m["packets_per_s"] = static_cast<double>(rx) / secs;
  m["throughput_bps"] = static_cast<double>(rx) * payload * 8.0 / secs;  // payload bits, as udp_pps
  m["udp_sent"] = tx;
  m["udp_received"] = rx;
  m["udp_loss_ratio"] = tx ? 1.0 - std::min(1.0, static_cast<double>(rx) / static_cast<double>(tx)) : 0.0;
  m["sent_packets_per_s"] = static_cast<double>(tx) / secs;
  m["frame_bytes"] = pkt.size();
  m["dut_ip_forw_datagrams"] = snmp1["Ip.ForwDatagrams"] - snmp0["Ip.ForwDatagrams"];
  m["cpu"] = cpu.to_json();
  if (rx) m["cpu_ns_per_packet"] = static_cast<double>(cpu.busy_ns) / static_cast<double>(rx);
  m["generator"] = {{"method", "BPF_PROG_RUN + BPF_F_TEST_XDP_LIVE_FRAMES, XDP_TX on cli0"},
                    {"batch_size", kBatchSize},
                    {"repeat_per_call", opt.rate_pps ? std::clamp<uint64_t>(opt.rate_pps / 1000, 1, kChunk) : kRepeatUnpaced},
                    {"paced", opt.rate_pps != 0},
                    {"bpf_stats", stats.to_json()},
                    {"dispatcher_anchor", anchor.active()},
                    {"dut0_xdp", dut0.action()},
                    {"srv0_sink", sink.action()}};
  auto per_run = [](const ProgStats& a, const ProgStats& b) {
    uint64_t n = b.run_cnt - a.run_cnt;
    return n ? static_cast<double>(b.run_time_ns - a.run_time_ns) / static_cast<double>(n) : 0.0;
  };
  if (stats.enabled()) {
    m["generator"]["xdp_gen_ns_per_run"] = per_run(gen0, gen1);
    m["generator"]["xdp_sink_ns_per_run"] = per_run(sink0, sink1);
  }
  r.metrics = std::move(m);
  if (!gen_error.empty()) {
    r.reason = gen_error;
    return r;
  }
  if (rx == 0) {
    r.reason = "no injected frame reached the sink on srv0 in the measured window";
    return r;
  }
  r.ok = true;
  return r;
}

}  // namespace

void add_xdp_workloads(std::vector<WorkloadInfo>& v) {
  WorkloadInfo w;
  w.name = "xdp_pps";
  w.description = "small UDP frames injected in the kernel (BPF_PROG_RUN live frames) into cli0, "
                  "counted and dropped by XDP on srv0; forwarded packets/s";
  w.tcp = false;
  w.default_payload = 18;
  w.max_payload = kMaxPayload;
  w.unsupported = live_frames_unsupported;
  w.run = run_xdp_pps;
  v.push_back(std::move(w));
}

}  // namespace pb

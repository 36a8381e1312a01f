// paths/forwarding.cpp: the eBPF forwarding paths (issue 3).
//
//   tc-redirect:   cli0 ==veth== dut0 [tc ingress: tc_fwd] --redirect--> dut1 ==veth== srv0
//   xdp-redirect:  cli0 [xdp_pass] ==veth== dut0 [xdp: xdp_fwd] --devmap--> dut1 [xdp: xdp_fwd]
//                  ==veth== srv0 [xdp_pass]
//
// Both route in BPF instead of the kernel's forwarding path: bpf_fib_lookup, TTL decrement with
// incremental checksum, redirect (bpf/tc_fwd.bpf.c, bpf/xdp_fwd.bpf.c). One program instance per
// attach point, so counters and BPF run-time stats say which direction did what. Proof of path
// (end()): the instances' counters over the workload against the generator's totals, and the
// DUT's kernel forwarding counter (Ip.ForwDatagrams) staying near zero: packets did not go the
// slow way. BPF run-time stats (in-kernel ns per packet) are sampled during each workload's
// warm-up only (StatsSampler): with stats on, every program run pays two clock reads, which on
// this VM costs a third of the small-packet rate.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>

#include "core/bpf_fixtures.h"
#include "core/bpf_util.h"
#include "core/log.h"
#include "core/path.h"
#include "core/util.h"
#include "tc_fwd.skel.h"
#include "xdp_fwd.skel.h"
#include "xdp_pass.skel.h"

namespace pb {
namespace {

using namespace pb::bpf;

// One program instance at one attach point.
struct Hook {
  std::string program;  // BPF program name
  std::string attach;   // "dut0/tc-ingress", "cli0/xdp"
  int prog_fd = -1;
  int counters_fd = -1;  // forwarding programs: their pb_counter map
  bool forward_c2s = false, forward_s2c = false;
  ProgStats stats0;
  std::vector<pb_counter> counters0;
};

// Opens and loads a forwarding skeleton with the DUT's ifindexes as counter slots.
template <class Skel>
SkelPtr<Skel> load_forwarder(const std::string& what, unsigned if0, unsigned if1) {
  SkelPtr<Skel> s(open_skeleton<Skel>(what));
  s->rodata->ifindex_slot0 = if0;
  s->rodata->ifindex_slot1 = if1;
  s->rodata->fib_flags = BPF_FIB_LOOKUP_DIRECT;  // see bpf/pb_bpf_common.h
  load_skeleton(s.get(), what);
  return s;
}

// `ethtool -K dev <feature> <value>` inside a namespace, restored on destruction when changed.
class EthtoolFeature {
 public:
  EthtoolFeature(std::string ns, std::string dev, std::string feature, std::string want,
                 std::string shown_as)
      : ns_(std::move(ns)), dev_(std::move(dev)), feature_(std::move(feature)) {
    before_ = query(shown_as);
    if (before_ != want) {
      run_cmd_checked(in_netns(ns_, {"ethtool", "-K", dev_, feature_, want}));
      changed_ = true;
    }
    now_ = query(shown_as);
    shown_as_ = shown_as;
  }
  ~EthtoolFeature() {
    if (!changed_) return;
    try {
      run_cmd_checked(in_netns(ns_, {"ethtool", "-K", dev_, feature_, before_ == "on" ? "on" : "off"}));
    } catch (const std::exception& e) {
      log::warn("restoring {} {} on {}/{}: {}", feature_, before_, ns_, dev_, e.what());
    }
  }
  nlohmann::json to_json() const {
    return {{"feature", shown_as_}, {"before", before_}, {"during", now_}};
  }

 private:
  // "tx-checksumming: off [fixed]" -> "off"
  std::string query(const std::string& shown_as) const {
    std::string out = run_cmd_checked(in_netns(ns_, {"ethtool", "-k", dev_}));
    for (auto& line : split(out, '\n')) {
      auto t = trim(line);
      if (t.rfind(shown_as + ":", 0) == 0) {
        auto v = trim(t.substr(shown_as.size() + 1));
        return v.substr(0, v.find(' '));
      }
    }
    return "unknown";
  }
  std::string ns_, dev_, feature_, shown_as_, before_, now_;
  bool changed_ = false;
};

// Current values of some `ethtool -k` features of ns/dev, for the record.
nlohmann::json offload_state(const std::string& ns, const std::string& dev,
                             const std::vector<std::string>& names) {
  nlohmann::json j = nlohmann::json::object();
  std::string out = run_cmd_checked(in_netns(ns, {"ethtool", "-k", dev}));
  for (auto& line : split(out, '\n')) {
    auto t = trim(line);
    for (auto& n : names)
      if (t.rfind(n + ":", 0) == 0) {
        auto v = trim(t.substr(n.size() + 1));
        j[n] = v.substr(0, v.find(' '));
      }
  }
  return j;
}

bool is_tcp_workload(const WorkloadOptions& w) { return w.name.rfind("tcp", 0) == 0; }

class ForwardingPath : public PathInstance {
 public:
  explicit ForwardingPath(const PathContext& c)
      : cli_(c.topo.cli()), dut_(c.topo.dut()), srv_(c.topo.srv()) {
    if0_ = ifindex_in_netns(dut_, Addr::kDutClientDev);
    if1_ = ifindex_in_netns(dut_, Addr::kDutServerDev);
    if (!if0_ || !if1_) throw EnvError("dut0/dut1 not found in namespace " + dut_);
  }

  void begin(const WorkloadOptions& w) override {
    for (auto& h : hooks_) {
      h.stats0 = prog_stats(h.prog_fd);
      if (h.counters_fd >= 0) h.counters0 = read_percpu_counters(h.counters_fd, PB_FWD_COUNTERS);
    }
    snmp0_ = read_snmp(dut_);
    stats_.start(stats_sample_seconds(w.warmup_s, w.duration_s), stats_sample_in_warmup(w.warmup_s));
  }

  nlohmann::json end(const WorkloadOptions& w, const WorkloadTotals& t) override {
    stats_.stop();
    nlohmann::json p = {{"ok", true}, {"attach_mode", attach_mode_},
                        {"fib_lookup", "BPF_FIB_LOOKUP_DIRECT (main table)"}};
    nlohmann::json counters = nlohmann::json::object(), stats = nlohmann::json::array();
    uint64_t c2s = 0, s2c = 0, passed = 0, dropped = 0;
    for (auto& h : hooks_) {
      ProgStats s = prog_stats(h.prog_fd);
      uint64_t cnt = s.run_cnt - h.stats0.run_cnt, ns = s.run_time_ns - h.stats0.run_time_ns;
      nlohmann::json e = {{"program", h.program}, {"attach", h.attach}, {"prog_id", s.id},
                          {"run_cnt", cnt}, {"run_time_ns", ns}};
      if (cnt) e["ns_per_run"] = static_cast<double>(ns) / static_cast<double>(cnt);
      stats.push_back(e);
      if (h.counters_fd < 0) continue;
      auto now = read_percpu_counters(h.counters_fd, PB_FWD_COUNTERS);
      counters[h.attach] = fwd_counters_json(now, &h.counters0, -1);
      uint64_t fwd = fwd_packets(now, &h.counters0, PB_FWD_FORWARDED);
      if (h.forward_c2s) c2s += fwd;
      if (h.forward_s2c) s2c += fwd;
      for (uint32_t r = PB_FWD_PASS_NOT_IPV4; r < PB_FWD_REASONS; ++r)
        (r == PB_FWD_DROP_REDIRECT ? dropped : passed) += fwd_packets(now, &h.counters0, r);
    }
    auto snmp = read_snmp(dut_);
    uint64_t slow = snmp["Ip.ForwDatagrams"] - snmp0_["Ip.ForwDatagrams"];
    p["counters"] = counters;
    p["forwarded_client_to_server"] = c2s;
    p["forwarded_server_to_client"] = s2c;
    p["passed_to_stack"] = passed;
    p["dropped"] = dropped;
    p["kernel_ip_forw_datagrams"] = slow;
    p["bpf_stats_enabled"] = stats_.enabled();
    p["bpf_stats_window"] = stats_.to_json();
    p["bpf_stats"] = stats;
    if (!extra_.empty()) p.update(extra_);

    std::vector<std::string> fails;
    if (c2s == 0) fails.push_back("the BPF program on dut0 forwarded no packet");
    if (is_tcp_workload(w)) {
      if (s2c == 0) fails.push_back("no TCP segment came back through the BPF program on dut1");
    } else {
      // Everything the server received crossed the DUT; packets lost before the DUT (a socket
      // sender overrunning the veth backlog, a live-frame generator overrunning the ring) count
      // as sent but never reach the program, so the floor is what was received.
      uint64_t expect = w.name == "xdp_pps" ? t.packets_received
                                            : std::min(t.packets_sent, t.packets_received);
      if (c2s < expect)
        fails.push_back(fmt::format("BPF forwarded {} packets client -> server but the server "
                                    "received {}", c2s, expect));
      p["forwarded_ge_sent"] = c2s >= t.packets_sent;
    }
    // A few slow-path packets are fine (e.g. something the program passes on purpose); more than
    // 1% means traffic went the kernel's way (e.g. FRAG_NEEDED on GSO batches, gotcha 4).
    uint64_t allowed = 16 + (c2s + s2c) / 100;
    if (slow > allowed)
      fails.push_back(fmt::format("{} packets took the kernel's forwarding path (Ip.ForwDatagrams) "
                                  "against {} forwarded in BPF", slow, c2s + s2c));
    if (!fails.empty()) {
      p["ok"] = false;
      p["reason"] = join(fails, "; ");
    }
    return p;
  }

 protected:
  std::string cli_, dut_, srv_;
  unsigned if0_ = 0, if1_ = 0;
  StatsSampler stats_;
  std::vector<Hook> hooks_;
  std::string attach_mode_;
  nlohmann::json extra_ = nlohmann::json::object();
  std::map<std::string, uint64_t> snmp0_;
};

class TcRedirect : public ForwardingPath {
 public:
  explicit TcRedirect(const PathContext& c) : ForwardingPath(c) {
    p0_ = load_forwarder<tc_fwd>("tc_fwd (dut0)", if0_, if1_);
    p1_ = load_forwarder<tc_fwd>("tc_fwd (dut1)", if0_, if1_);
    int fd0 = bpf_program__fd(p0_->progs.tc_fwd), fd1 = bpf_program__fd(p1_->progs.tc_fwd);
    tc0_ = std::make_unique<TcIngress>(dut_, Addr::kDutClientDev, fd0);
    tc1_ = std::make_unique<TcIngress>(dut_, Addr::kDutServerDev, fd1);
    attach_mode_ = tc0_->mode() == tc1_->mode() ? tc0_->mode() : tc0_->mode() + "+" + tc1_->mode();
    hooks_.push_back({"tc_fwd", "dut0/tc-ingress", fd0, bpf_map__fd(p0_->maps.counters), true, false, {}, {}});
    hooks_.push_back({"tc_fwd", "dut1/tc-ingress", fd1, bpf_map__fd(p1_->maps.counters), false, true, {}, {}});
    log::debug("tc-redirect: tc_fwd attached to dut0/dut1 ingress ({})", attach_mode_);
  }

 private:
  // Declaration order = reverse destruction order: attachments go before their programs.
  SkelPtr<tc_fwd> p0_, p1_;
  std::unique_ptr<TcIngress> tc0_, tc1_;
};

class XdpRedirect : public ForwardingPath {
 public:
  explicit XdpRedirect(const PathContext& c) : ForwardingPath(c) {
    // Gotcha 1: XDP redirect between veths loses the checksum-offload state of the frames (the
    // server counts TcpInCsumErrors and TCP stalls), so the end veths checksum in software.
    // Turning tx checksumming off also turns TSO/GSO off there (they depend on it).
    csum_cli_ = std::make_unique<EthtoolFeature>(cli_, Addr::kClientDev, "tx", "off", "tx-checksumming");
    csum_srv_ = std::make_unique<EthtoolFeature>(srv_, Addr::kServerDev, "tx", "off", "tx-checksumming");
    pass_cli_ = open_and_load_pass("xdp_pass (cli0)");
    pass_srv_ = open_and_load_pass("xdp_pass (srv0)");
    p0_ = load_forwarder<xdp_fwd>("xdp_fwd (dut0)", if0_, if1_);
    p1_ = load_forwarder<xdp_fwd>("xdp_fwd (dut1)", if0_, if1_);
    // Gotcha 5: devmap entries are ifindexes resolved in the writer's namespace, so the devmaps
    // are filled from a thread inside the DUT namespace.
    run_in_netns(dut_, [&] {
      for (auto* s : {p0_.get(), p1_.get()})
        for (unsigned idx : {if0_, if1_}) {
          __u32 k = idx, v = idx;
          if (bpf_map_update_elem(bpf_map__fd(s->maps.tx_ports), &k, &v, 0))
            throw BpfError(errno_msg(fmt::format("devmap tx_ports: add ifindex {}", idx), errno));
        }
    });
    int pc = bpf_program__fd(pass_cli_->progs.xdp_pass), ps = bpf_program__fd(pass_srv_->progs.xdp_pass);
    int fd0 = bpf_program__fd(p0_->progs.xdp_fwd), fd1 = bpf_program__fd(p1_->progs.xdp_fwd);
    // Gotcha 2: a veth receiving XDP-redirected frames needs an XDP program itself, or they
    // vanish (rx_queue_0_drops): the peers get xdp_pass, before the redirecting programs.
    l_cli_ = std::make_unique<XdpLink>(cli_, Addr::kClientDev, pc);
    l_srv_ = std::make_unique<XdpLink>(srv_, Addr::kServerDev, ps);
    l0_ = std::make_unique<XdpLink>(dut_, Addr::kDutClientDev, fd0);
    l1_ = std::make_unique<XdpLink>(dut_, Addr::kDutServerDev, fd1);
    attach_mode_ = "xdp-drv-link";
    hooks_.push_back({"xdp_fwd", "dut0/xdp", fd0, bpf_map__fd(p0_->maps.counters), true, false, {}, {}});
    hooks_.push_back({"xdp_fwd", "dut1/xdp", fd1, bpf_map__fd(p1_->maps.counters), false, true, {}, {}});
    hooks_.push_back({"xdp_pass", "cli0/xdp", pc, -1, false, false, {}, {}});
    hooks_.push_back({"xdp_pass", "srv0/xdp", ps, -1, false, false, {}, {}});
    // Gotcha 3: native XDP on a veth also turns TSO off on its peer, so this path carries
    // MTU-sized frames where baseline and tc-redirect carry 64 KB GSO batches: recorded here.
    const std::vector<std::string> seg = {"tx-checksumming", "tcp-segmentation-offload",
                                          "generic-segmentation-offload"};
    extra_["offloads"] = {
        {std::string(Addr::kClientDev), {{"changed", csum_cli_->to_json()}, {"during", offload_state(cli_, Addr::kClientDev, seg)}}},
        {std::string(Addr::kServerDev), {{"changed", csum_srv_->to_json()}, {"during", offload_state(srv_, Addr::kServerDev, seg)}}}};
    log::debug("xdp-redirect: xdp_fwd on dut0/dut1 (native), xdp_pass on cli0/srv0");
  }

 private:
  static SkelPtr<xdp_pass> open_and_load_pass(const std::string& what) {
    SkelPtr<xdp_pass> s(open_skeleton<xdp_pass>(what));
    load_skeleton(s.get(), what);
    return s;
  }
  // Declaration order = reverse destruction order: DUT programs detach first, then the peers'
  // pass programs, then the programs are unloaded, then offloads restored.
  std::unique_ptr<EthtoolFeature> csum_cli_, csum_srv_;
  SkelPtr<xdp_pass> pass_cli_, pass_srv_;
  SkelPtr<xdp_fwd> p0_, p1_;
  std::unique_ptr<XdpLink> l_cli_, l_srv_, l0_, l1_;
};

// Cheap feasibility probe: can this kernel load the program and run it once under
// BPF_PROG_TEST_RUN (verifier, bpf_fib_lookup, redirect helpers)? Nothing is attached, and the
// test run happens in a throwaway empty namespace.
template <class Skel, class RunFn>
std::optional<std::string> probe(const std::string& what, RunFn run) {
  if (!is_root()) return "needs root (CAP_BPF and CAP_NET_ADMIN) to load and attach BPF programs";
  try {
    SkelPtr<Skel> s(open_skeleton<Skel>(what));
    load_skeleton(s.get(), what);
    auto pkt = fixtures::build_packet(fixtures::udp_c2s());
    TestRun r;
    run_in_throwaway_netns([&] { r = run(s.get(), pkt); });
    if (r.err) return errno_msg("BPF_PROG_TEST_RUN(" + what + ")", -r.err);
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

}  // namespace

void add_forwarding_paths(std::vector<PathInfo>& v) {
  PathInfo tc;
  tc.name = "tc-redirect";
  tc.description = "TC ingress BPF on the DUT veths: bpf_fib_lookup + redirect (TCX link, or "
                   "clsact on kernels before 6.6)";
  tc.unsupported = [] {
    return probe<tc_fwd>("tc_fwd", [](tc_fwd* s, const std::vector<uint8_t>& pkt) {
      return test_run_tc(bpf_program__fd(s->progs.tc_fwd), pkt, 0);
    });
  };
  tc.make = [](const PathContext& c) { return std::make_unique<TcRedirect>(c); };
  v.push_back(std::move(tc));

  PathInfo xdp;
  xdp.name = "xdp-redirect";
  xdp.description = "native XDP on the DUT veths: bpf_fib_lookup + devmap redirect (xdp_pass on "
                    "the peers, tx checksum offload off on cli0/srv0)";
  xdp.unsupported = [] {
    if (!find_program("ethtool")) return std::optional<std::string>("ethtool not found: apt-get install ethtool");
    return probe<xdp_fwd>("xdp_fwd", [](xdp_fwd* s, const std::vector<uint8_t>& pkt) {
      return test_run_xdp(bpf_program__fd(s->progs.xdp_fwd), pkt, 0);
    });
  };
  xdp.make = [](const PathContext& c) { return std::make_unique<XdpRedirect>(c); };
  v.push_back(std::move(xdp));
}

}  // namespace pb

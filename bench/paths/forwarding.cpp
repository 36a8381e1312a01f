// SPDX-License-Identifier: Apache-2.0
#include <fmt/core.h>

#include "paths/forwarding.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>

#include "common/log.h"
#include "common/strings.h"
#include "kernel/bpf/attach.h"
#include "kernel/ethtool.h"
#include "measure/snmp.h"

namespace pb {

ForwardingPath::ForwardingPath(const PathContext& c)
    : PathInstance(c), cli_(c.roles.client().netns), dut_(c.roles.dut().netns), srv_(c.roles.server().netns) {
  if0_ = ifindex_in_netns(dut_, wiring_.dut_client_dev);
  if1_ = ifindex_in_netns(dut_, wiring_.dut_server_dev);
  if (!if0_ || !if1_)
    throw EnvError(wiring_.dut_client_dev + "/" + wiring_.dut_server_dev + " not found in namespace " + dut_);
}

void ForwardingPath::attach_xdp(const std::string& ns, const std::string& dev, int prog_fd) {
  std::unique_ptr<bpf::XdpLink> link;
  try {
    link = std::make_unique<bpf::XdpLink>(ns, dev, prog_fd);
    xdp_modes_[dev] = "native";
  } catch (const BpfError& e) {
    // A driver without native XDP (on real hosts: some NICs; veth always has it): generic XDP,
    // said in the proof, so a result is never read as the driver's fast path when it is not.
    if (std::string(e.what()).find("Operation not supported") == std::string::npos) throw;
    link = std::make_unique<bpf::XdpLink>(ns, dev, prog_fd, XDP_FLAGS_SKB_MODE);
    xdp_modes_[dev] = "generic";
    log::warn("{}: no native XDP in its driver: generic (skb) mode", dev);
  }
  undo_.adopt("XDP link " + dev + " (" + xdp_modes_[dev] + " mode)", {{Item::kBpfLink, 1}}, 1, std::move(link));
}

nlohmann::json change_offload(UndoLog& undo, const std::string& ns, const std::string& dev, const std::string& feature,
                              const std::string& want, const std::string& shown_as) {
  auto f = std::make_unique<EthtoolFeature>(ns, dev, feature, want, shown_as);
  nlohmann::json j = f->to_json();
  const bool changed = f->changed();
  std::vector<Installed> inst;
  if (changed) inst.push_back({Item::kOffloadChange, 1});
  // ethtool -K is an external command, counted as one when it changed something.
  if (changed) undo.adopt_command("ethtool -K " + dev + " " + feature + " " + want, inst, std::move(f));
  return j;
}

void ForwardingPath::path_begin(const WorkloadInfo&, const WorkloadOptions& w) {
  for (auto& h : hooks_) {
    h.stats0 = bpf::prog_stats(h.prog_fd);
    if (h.counters_fd >= 0) h.counters0 = bpf::read_percpu_counters(h.counters_fd, PB_FWD_COUNTERS);
  }
  snmp0_ = read_snmp(dut_);
  stats_.start(bpf::stats_sample_seconds(w.warmup_s, w.duration_s), bpf::stats_sample_in_warmup(w.warmup_s));
}

nlohmann::json ForwardingPath::path_end(const WorkloadInfo& wl, const WorkloadOptions&, const WorkloadTotals& t) {
  stats_.stop();
  bool generic = false;
  for (auto& [dev, mode] : xdp_modes_) generic |= mode == "generic";
  nlohmann::json p = {{"ok", true}, {"attach_mode", generic ? std::string("xdp-generic-link") : attach_mode_}};
  if (!xdp_modes_.empty()) p["xdp_mode"] = xdp_modes_;  // per interface: native | generic
  if (bpf_forwards_) p["fib_lookup"] = "BPF_FIB_LOOKUP_DIRECT (main table)";
  nlohmann::json counters = nlohmann::json::object(), stats = nlohmann::json::array();
  uint64_t c2s = 0, s2c = 0, passed = 0, dropped = 0;
  for (auto& h : hooks_) {
    bpf::ProgStats s = bpf::prog_stats(h.prog_fd);
    uint64_t cnt = s.run_cnt - h.stats0.run_cnt, ns = s.run_time_ns - h.stats0.run_time_ns;
    nlohmann::json e = {{"program", h.program}, {"attach", h.attach}, {"prog_id", s.id},
                        {"run_cnt", cnt}, {"run_time_ns", ns}};
    if (cnt) e["ns_per_run"] = static_cast<double>(ns) / static_cast<double>(cnt);
    stats.push_back(e);
    if (h.counters_fd < 0) continue;
    auto now = bpf::read_percpu_counters(h.counters_fd, PB_FWD_COUNTERS);
    counters[h.attach] = bpf::fwd_counters_json(now, &h.counters0, -1);
    uint64_t fwd = bpf::fwd_packets(now, &h.counters0, PB_FWD_FORWARDED);
    if (h.forward_c2s) c2s += fwd;
    if (h.forward_s2c) s2c += fwd;
    for (uint32_t r = PB_FWD_PASS_NOT_IPV4; r < PB_FWD_REASONS; ++r)
      (r == PB_FWD_DROP_REDIRECT ? dropped : passed) += bpf::fwd_packets(now, &h.counters0, r);
  }
  auto snmp = read_snmp(dut_);
  uint64_t slow = snmp["Ip.ForwDatagrams"] - snmp0_["Ip.ForwDatagrams"];
  const bool tcp = wl.protocol == Protocol::kTcp && wl.transport == Transport::kSocket;
  const bool frames = wl.transport == Transport::kFrames;
  p["kernel_ip_forw_datagrams"] = slow;
  p["bpf_stats_enabled"] = stats_.enabled();
  p["bpf_stats_window"] = stats_.to_json();
  p["bpf_stats"] = stats;
  if (!extra_.empty()) p.update(extra_);
  std::vector<std::string> fails;
  // Everything the server received crossed the DUT; packets lost before the DUT (a socket
  // sender overrunning the veth backlog, a live-frame generator overrunning the ring) count as
  // sent but never reach the DUT, so the floor is what was received.
  const uint64_t expect = frames ? t.packets_received : std::min(t.packets_sent, t.packets_received);
  if (!bpf_forwards_) {
    // A control that leaves forwarding to the kernel: the kernel's own counter is the proof.
    if (slow == 0) fails.push_back("the DUT forwarded no datagram (Ip.ForwDatagrams did not move)");
    else if (!tcp && slow < expect)
      fails.push_back(fmt::format("the DUT forwarded {} datagrams but the server got {}", slow, expect));
  } else {
    p["counters"] = counters;
    p["forwarded_client_to_server"] = c2s;
    p["forwarded_server_to_client"] = s2c;
    p["passed_to_stack"] = passed;
    p["dropped"] = dropped;
    if (c2s == 0) fails.push_back("the BPF program on " + wiring_.dut_client_dev + " forwarded no packet");
    if (tcp) {
      if (s2c == 0) fails.push_back("no TCP segment came back through the BPF program on " + wiring_.dut_server_dev);
    } else {
      if (c2s < expect)
        fails.push_back(fmt::format("BPF forwarded {} packets client -> server but the server received {}", c2s, expect));
      p["forwarded_ge_sent"] = c2s >= t.packets_sent;
    }
    // A few slow-path packets are fine (e.g. something the program passes on purpose); more than
    // 1% means traffic went the kernel's way (e.g. FRAG_NEEDED on GSO batches: docs/gotchas.md
    // "TC fib lookup and GSO batches").
    uint64_t allowed = 16 + (c2s + s2c) / 100;
    if (slow > allowed)
      fails.push_back(fmt::format("{} packets took the kernel's forwarding path (Ip.ForwDatagrams) against {} forwarded in BPF",
                                  slow, c2s + s2c));
  }
  if (!fails.empty()) {
    p["ok"] = false;
    p["reason"] = join(fails, "; ");
  }
  return p;
}

}  // namespace pb

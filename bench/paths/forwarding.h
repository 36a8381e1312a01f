// SPDX-License-Identifier: Apache-2.0
// paths/forwarding.h: what the eBPF forwarding paths share (tc-redirect: paths/tc_fwd.cpp,
// xdp-redirect: paths/xdp_fwd.cpp, and the xdp-pass control). They route in BPF instead of the
// kernel's forwarding path: bpf_fib_lookup, TTL decrement with incremental checksum, redirect.
// One program instance per attach point, so counters and BPF run-time stats say which direction
// did what.
//
// Proof of path (end()): the instances' counters over the workload against the generator's
// totals, and the DUT's kernel forwarding counter (Ip.ForwDatagrams) staying near zero: packets
// did not go the slow way. BPF run-time stats (in-kernel ns per packet) are sampled during each
// workload's warm-up only (StatsSampler): with stats on, every program run pays two clock
// reads, which on this VM costs a third of the small-packet rate.
#pragma once
#include <linux/bpf.h>
#include <map>
#include <string>
#include <vector>

#include "kernel/bpf/fwd_counters.h"
#include "kernel/bpf/skeleton.h"
#include "kernel/bpf/stats.h"
#include "paths/path.h"

namespace pb {

// One program instance at one attach point.
struct Hook {
  std::string program;   // BPF program name
  std::string attach;    // "dut0/tc-ingress", "cli0/xdp"
  int prog_fd = -1;
  int counters_fd = -1;  // forwarding programs: their pb_counter map
  bool forward_c2s = false, forward_s2c = false;
  bpf::ProgStats stats0;
  std::vector<pb_counter> counters0;
};

class ForwardingPath : public PathInstance {
 public:
  explicit ForwardingPath(const PathContext& c);
  void path_begin(const WorkloadInfo& wl, const WorkloadOptions& w) override;
  nlohmann::json path_end(const WorkloadInfo& wl, const WorkloadOptions& w, const WorkloadTotals& t) override;

 protected:
  // Opens and loads a forwarding skeleton with the DUT's ifindexes as counter slots, into the
  // undo log.
  template <class Skel>
  Skel* load_forwarder(const std::string& what) {
    return bpf::load_into<Skel>(undo_, what, [&](Skel* s) {
      s->rodata->ifindex_slot0 = if0_;
      s->rodata->ifindex_slot1 = if1_;
      s->rodata->fib_flags = BPF_FIB_LOOKUP_DIRECT;  // see bpf/pb_bpf_common.h
    });
  }
  // An XDP link on ns/dev (driver mode), into the undo log.
  void attach_xdp(const std::string& ns, const std::string& dev, int prog_fd);
  // false: the path forwards in the kernel (a control); its proof is the kernel's counter.
  bool bpf_forwards_ = true;
  std::string cli_, dut_, srv_;
  unsigned if0_ = 0, if1_ = 0;
  bpf::StatsSampler stats_;
  std::vector<Hook> hooks_;
  std::string attach_mode_;
  std::map<std::string, std::string> xdp_modes_;  // dev -> native | generic (attach_xdp)
  nlohmann::json extra_ = nlohmann::json::object();
  std::map<std::string, uint64_t> snmp0_;
};

// `ethtool -K` changes (kernel/ethtool.h) into the undo log, with the record of what changed.
nlohmann::json change_offload(UndoLog& undo, const std::string& ns, const std::string& dev, const std::string& feature,
                              const std::string& want, const std::string& shown_as);

// Cheap feasibility probe: can this kernel load the program and run it once under
// BPF_PROG_TEST_RUN (verifier, helpers)? Nothing is attached; the test run happens in a
// throwaway empty namespace.
template <class Skel, class ProgFn>
std::optional<std::string> probe_program(const std::string& what, ProgFn prog_of);

}  // namespace pb

#include "kernel/bpf/test_run.h"
#include "kernel/host.h"
#include "kernel/netns.h"
#include "roles/packet_fixtures.h"

namespace pb {

template <class Skel, class ProgFn>
std::optional<std::string> probe_program(const std::string& what, ProgFn prog_of) {
  if (!is_root()) return "needs root (CAP_BPF and CAP_NET_ADMIN) to load and attach BPF programs";
  try {
    auto s = bpf::open_and_load<Skel>(what);
    auto pkt = bpf::fixtures::build_packet(bpf::fixtures::udp_c2s());
    bpf::TestRun r;
    run_in_throwaway_netns([&] { r = bpf::test_run(bpf_program__fd(prog_of(s.get())), pkt, 0); });
    if (r.err) return errno_msg("BPF_PROG_TEST_RUN(" + what + ")", -r.err);
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

}  // namespace pb

// SPDX-License-Identifier: Apache-2.0
// paths/xdp_fwd.cpp ↔ bpf/xdp_fwd.bpf.c: xdp-redirect. Native XDP on both DUT veths routes with
// bpf_fib_lookup and a devmap redirect.
//
//   cli0 [xdp_pass] ==veth== dut0 [xdp: xdp_fwd] --devmap--> dut1 [xdp: xdp_fwd] ==veth== srv0 [xdp_pass]
//
// The gotchas it works around (docs/gotchas.md): XDP redirect between veths loses the frames'
// checksum-offload state, so the end veths checksum in software (tx checksumming off, which also
// turns TSO/GSO off there); a veth receiving XDP-redirected frames needs an XDP program itself,
// so the peers get xdp_pass; devmap entries are ifindexes resolved in the writer's namespace;
// native XDP on a veth turns TSO off on its peer, so this path carries MTU-sized frames where
// baseline and tc-redirect carry 64 KB GSO batches (recorded in the proof's offloads; compare
// it with the xdp-pass control, which has the same frames without the redirect).
#include <bpf/bpf.h>

#include "common/log.h"
#include "kernel/bpf/attach.h"
#include "kernel/ethtool.h"
#include "paths/forwarding.h"
#include "xdp_fwd.skel.h"
#include "xdp_pass.skel.h"

namespace pb {
namespace {

class XdpRedirect : public ForwardingPath {
 public:
  explicit XdpRedirect(const PathContext& c) : ForwardingPath(c) {
    const Wiring& w = wiring_;
    // Hosts mode: the client and server are other hosts. A veth delivers redirected frames only
    // when its peer runs XDP (the xdp_pass below), which is another host's interface then; a NIC
    // driver's ndo_xdp_xmit needs nothing from the far end.
    peers_ = c.roles.client().local && c.roles.server().local;
    if (!peers_) {
      for (const std::string* dev : {&w.dut_client_dev, &w.dut_server_dev})
        if (ethtool_driver_json(dut_, *dev).value("driver", nlohmann::json("")) == "veth")
          throw PathUnsupportedHere("xdp-redirect into veth " + *dev + " needs xdp_pass on its peer, which is on another host "
                         "here: not available with --hosts over veth");
      redirect_only();
      return;
    }
    nlohmann::json csum_cli = change_offload(undo_, cli_, w.client_dev, "tx", "off", "tx-checksumming");
    nlohmann::json csum_srv = change_offload(undo_, srv_, w.server_dev, "tx", "off", "tx-checksumming");
    xdp_pass* pass_cli = bpf::load_into<xdp_pass>(undo_, "xdp_pass (" + w.client_dev + ")");
    xdp_pass* pass_srv = bpf::load_into<xdp_pass>(undo_, "xdp_pass (" + w.server_dev + ")");
    xdp_fwd* p0 = load_forwarder<xdp_fwd>("xdp_fwd (" + w.dut_client_dev + ")");
    xdp_fwd* p1 = load_forwarder<xdp_fwd>("xdp_fwd (" + w.dut_server_dev + ")");
    // Devmap entries are ifindexes resolved in the writer's namespace: filled from a thread
    // inside the DUT namespace.
    run_in_netns(dut_, [&] {
      for (auto* s : {p0, p1})
        for (unsigned idx : {if0_, if1_}) {
          __u32 k = idx, v = idx;
          if (bpf_map_update_elem(bpf_map__fd(s->maps.tx_ports), &k, &v, 0))
            throw BpfError(errno_msg(fmt::format("devmap tx_ports: add ifindex {}", idx), errno));
        }
    });
    undo_.note("devmap entries (both DUT veths, both programs)", {{Item::kBpfMapEntry, 4}}, 4);
    int pc = bpf_program__fd(pass_cli->progs.xdp_pass), ps = bpf_program__fd(pass_srv->progs.xdp_pass);
    int fd0 = bpf_program__fd(p0->progs.xdp_fwd), fd1 = bpf_program__fd(p1->progs.xdp_fwd);
    // The peers get xdp_pass before the redirecting programs.
    attach_xdp(cli_, w.client_dev, pc);
    attach_xdp(srv_, w.server_dev, ps);
    attach_xdp(dut_, w.dut_client_dev, fd0);
    attach_xdp(dut_, w.dut_server_dev, fd1);
    attach_mode_ = "xdp-drv-link";
    hooks_.push_back({"xdp_fwd", w.dut_client_dev + "/xdp", fd0, bpf_map__fd(p0->maps.counters), true, false, {}, {}});
    hooks_.push_back({"xdp_fwd", w.dut_server_dev + "/xdp", fd1, bpf_map__fd(p1->maps.counters), false, true, {}, {}});
    hooks_.push_back({"xdp_pass", w.client_dev + "/xdp", pc, -1, false, false, {}, {}});
    hooks_.push_back({"xdp_pass", w.server_dev + "/xdp", ps, -1, false, false, {}, {}});
    const std::vector<std::string> seg = {"tx-checksumming", "tcp-segmentation-offload", "generic-segmentation-offload"};
    extra_["offloads"] = {
        {w.client_dev, {{"changed", csum_cli}, {"during", ethtool_features_json(cli_, w.client_dev, seg)}}},
        {w.server_dev, {{"changed", csum_srv}, {"during", ethtool_features_json(srv_, w.server_dev, seg)}}}};
    log::debug("xdp-redirect: xdp_fwd on {}/{} (native), xdp_pass on {}/{}", w.dut_client_dev, w.dut_server_dev,
               w.client_dev, w.server_dev);
  }

 private:
  // The DUT's two programs alone (hosts mode, NIC drivers).
  void redirect_only() {
    const Wiring& w = wiring_;
    xdp_fwd* p0 = load_forwarder<xdp_fwd>("xdp_fwd (" + w.dut_client_dev + ")");
    xdp_fwd* p1 = load_forwarder<xdp_fwd>("xdp_fwd (" + w.dut_server_dev + ")");
    run_in_netns(dut_, [&] {
      for (auto* s : {p0, p1})
        for (unsigned idx : {if0_, if1_}) {
          __u32 k = idx, v = idx;
          if (bpf_map_update_elem(bpf_map__fd(s->maps.tx_ports), &k, &v, 0))
            throw BpfError(errno_msg(fmt::format("devmap tx_ports: add ifindex {}", idx), errno));
        }
    });
    undo_.note("devmap entries (both DUT interfaces, both programs)", {{Item::kBpfMapEntry, 4}}, 4);
    int fd0 = bpf_program__fd(p0->progs.xdp_fwd), fd1 = bpf_program__fd(p1->progs.xdp_fwd);
    attach_xdp(dut_, w.dut_client_dev, fd0);
    attach_xdp(dut_, w.dut_server_dev, fd1);
    attach_mode_ = "xdp-drv-link";
    hooks_.push_back({"xdp_fwd", w.dut_client_dev + "/xdp", fd0, bpf_map__fd(p0->maps.counters), true, false, {}, {}});
    hooks_.push_back({"xdp_fwd", w.dut_server_dev + "/xdp", fd1, bpf_map__fd(p1->maps.counters), false, true, {}, {}});
    extra_["peers"] = "not touched (client and server are other hosts)";
  }
  bool peers_ = true;
};

PB_REGISTER_PATH([] {
  PathInfo p = bpf_forwarded_path("xdp-redirect", "native XDP on the DUT veths: bpf_fib_lookup + devmap redirect "
                                  "(xdp_pass on the peers, tx checksum offload off on cli0/srv0)", 70);
  p.unsupported = [] {
    if (auto r = need_program("ethtool", "ethtool")) return r;
    return probe_program<xdp_fwd>("xdp_fwd", [](xdp_fwd* s) { return s->progs.xdp_fwd; });
  };
  p.make = [](const PathContext& c) { return std::make_unique<XdpRedirect>(c); };
  return p;
});

}  // namespace
}  // namespace pb

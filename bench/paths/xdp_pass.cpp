// SPDX-License-Identifier: Apache-2.0
// paths/xdp_pass.cpp ↔ bpf/xdp_pass.bpf.c: the xdp-pass control. An XDP_PASS program on both DUT
// veths in native mode; the kernel forwards as on baseline. Attaching any XDP program to a veth
// changes how ordinary skbs are handled (the veth's receive side switches to NAPI, its peer loses
// TSO: docs/gotchas.md "Native XDP on a veth turns TSO off on its peer"), so this path separates
// "an XDP program is present" from "XDP redirects": xdp-redirect's ratio to it is the redirect's
// own cost, and its ratio to baseline the cost of merely having XDP there.
//
//   cli0 ==veth== dut0 [xdp: xdp_pass] -- kernel forwarding -- dut1 [xdp: xdp_pass] ==veth== srv0
#include "common/log.h"
#include "kernel/ethtool.h"
#include "paths/forwarding.h"
#include "xdp_pass.skel.h"

namespace pb {
namespace {

class XdpPass : public ForwardingPath {
 public:
  explicit XdpPass(const PathContext& c) : ForwardingPath(c) {
    const Wiring& w = wiring_;
    bpf_forwards_ = false;  // the kernel forwards: its Ip.ForwDatagrams is the proof
    xdp_pass* p0 = bpf::load_into<xdp_pass>(undo_, "xdp_pass (" + w.dut_client_dev + ")");
    xdp_pass* p1 = bpf::load_into<xdp_pass>(undo_, "xdp_pass (" + w.dut_server_dev + ")");
    int fd0 = bpf_program__fd(p0->progs.xdp_pass), fd1 = bpf_program__fd(p1->progs.xdp_pass);
    attach_xdp(dut_, w.dut_client_dev, fd0);
    attach_xdp(dut_, w.dut_server_dev, fd1);
    attach_mode_ = "xdp-drv-link";
    hooks_.push_back({"xdp_pass", w.dut_client_dev + "/xdp", fd0, -1, false, false, {}, {}});
    hooks_.push_back({"xdp_pass", w.dut_server_dev + "/xdp", fd1, -1, false, false, {}, {}});
    const std::vector<std::string> seg = {"tx-checksumming", "tcp-segmentation-offload", "generic-segmentation-offload"};
    extra_["offloads"] = {{w.client_dev, {{"during", ethtool_features_json(cli_, w.client_dev, seg)}}},
                          {w.server_dev, {{"during", ethtool_features_json(srv_, w.server_dev, seg)}}}};
    log::debug("xdp-pass: xdp_pass on {}/{} (native), kernel forwarding", w.dut_client_dev, w.dut_server_dev);
  }
};

PB_REGISTER_PATH([] {
  PathInfo p = control_path("xdp-pass",
                            "native XDP_PASS on the DUT veths, kernel forwarding (control: an XDP program is present, "
                            "nothing redirects)",
                            75,
                            "the cost of having an XDP program on the DUT veths at all (veth NAPI mode, the peer's "
                            "TSO off): xdp-redirect's ratio to it is the redirect's own cost",
                            {"xdp-redirect"});
  p.technology = Technology::kEbpf;
  p.unsupported = [] { return probe_program<xdp_pass>("xdp_pass", [](xdp_pass* s) { return s->progs.xdp_pass; }); };
  p.make = [](const PathContext& c) { return std::make_unique<XdpPass>(c); };
  return p;
});

}  // namespace
}  // namespace pb

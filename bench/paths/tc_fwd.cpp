// SPDX-License-Identifier: Apache-2.0
// paths/tc_fwd.cpp ↔ bpf/tc_fwd.bpf.c: tc-redirect. A TC ingress program on each DUT veth
// (TCX link, clsact fallback: kernel/bpf/attach.h) routes with bpf_fib_lookup and
// bpf_redirect_neigh instead of the kernel's forwarding path.
//
//   cli0 ==veth== dut0 [tc ingress: tc_fwd] --redirect--> dut1 ==veth== srv0  (and back via dut1's)
#include "common/log.h"
#include "kernel/bpf/attach.h"
#include "paths/forwarding.h"
#include "tc_fwd.skel.h"

namespace pb {
namespace {

class TcRedirect : public ForwardingPath {
 public:
  explicit TcRedirect(const PathContext& c) : ForwardingPath(c) {
    const std::string d0 = wiring_.dut_client_dev, d1 = wiring_.dut_server_dev;
    tc_fwd* p0 = load_forwarder<tc_fwd>("tc_fwd (" + d0 + ")");
    tc_fwd* p1 = load_forwarder<tc_fwd>("tc_fwd (" + d1 + ")");
    int fd0 = bpf_program__fd(p0->progs.tc_fwd), fd1 = bpf_program__fd(p1->progs.tc_fwd);
    std::string m0 = attach(d0, fd0), m1 = attach(d1, fd1);
    attach_mode_ = m0 == m1 ? m0 : m0 + "+" + m1;
    hooks_.push_back({"tc_fwd", d0 + "/tc-ingress", fd0, bpf_map__fd(p0->maps.counters), true, false, {}, {}});
    hooks_.push_back({"tc_fwd", d1 + "/tc-ingress", fd1, bpf_map__fd(p1->maps.counters), false, true, {}, {}});
    log::debug("tc-redirect: tc_fwd attached to {}/{} ingress ({})", d0, d1, attach_mode_);
  }

 private:
  std::string attach(const std::string& dev, int fd) {
    auto tc = std::make_unique<bpf::TcHook>(dut_, dev, fd);
    std::string mode = tc->mode();
    undo_.adopt("tc ingress " + dev + " (" + mode + ")", {{mode == "tcx" ? Item::kBpfLink : Item::kTcHook, 1}},
                mode == "tcx" ? 1 : 2, std::move(tc));
    return mode;
  }
};

PB_REGISTER_PATH([] {
  PathInfo p = bpf_forwarded_path("tc-redirect", "TC ingress BPF on the DUT veths: bpf_fib_lookup + redirect (TCX link, "
                                  "or clsact on kernels before 6.6)", 60);
  p.unsupported = [] { return probe_program<tc_fwd>("tc_fwd", [](tc_fwd* s) { return s->progs.tc_fwd; }); };
  p.make = [](const PathContext& c) { return std::make_unique<TcRedirect>(c); };
  return p;
});

}  // namespace
}  // namespace pb

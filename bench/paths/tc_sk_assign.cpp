// SPDX-License-Identifier: Apache-2.0
// paths/tc_sk_assign.cpp ↔ bpf/tc_sk_assign.bpf.c: the tc-sk-assign path (Cilium's way to reach
// a transparent proxy). The program runs at TC ingress of the DUT's client-side interface (a TCX
// link, clsact on kernels before 6.6: kernel/bpf/attach.h, the same attachment tc-redirect uses)
// and attaches the proxy's socket to new flows' skbs with bpf_sk_assign. Kernel state: the two
// iif policy rules and the local route, the program and its maps, the TC attachment. Before
// Linux 6.5 bpf_sk_assign refuses a socket of a SO_REUSEPORT group, so there the proxy listens
// without SO_REUSEPORT (one worker), recorded as proof.proxy_listener (docs/gotchas.md
// "bpf_sk_assign and SO_REUSEPORT before 6.5").
#include "common/log.h"
#include "kernel/bpf/attach.h"
#include "kernel/host.h"
#include "paths/steer.h"
#include "tc_sk_assign.skel.h"

namespace pb {
namespace {

struct TcAttach {
  static constexpr const char* kProofKey = "tc_sk_assign";
  static std::optional<std::string> no_reuseport() { return bpf::sk_assign_reuseport_missing(kernel_release()); }
  static bpf_program* program(tc_sk_assign* s) { return s->progs.pb_tc_sk_assign; }
  static void attach(UndoLog& undo, const Roles& roles, bpf_program* prog, nlohmann::json& extra) {
    const std::string& dev = roles.wiring().dut_client_dev;
    auto tc = std::make_unique<bpf::TcHook>(roles.dut().netns, dev, bpf_program__fd(prog));
    const std::string mode = tc->mode();
    extra["attach"] = mode;
    undo.adopt("tc ingress " + dev + " (" + mode + ")", {{mode == "tcx" ? Item::kBpfLink : Item::kTcHook, 1}},
               mode == "tcx" ? 1 : 2, std::move(tc));
    log::debug("tc-sk-assign: program attached to {} ingress in {} ({})", dev, roles.dut().netns, mode);
  }
};

PB_REGISTER_PATH([] {
  return steer_path_info<tc_sk_assign, TcAttach>(
      "tc-sk-assign", "TC ingress BPF bpf_sk_assign to the proxy socket (Cilium's way); policy route local", 50);
});

}  // namespace
}  // namespace pb

// SPDX-License-Identifier: Apache-2.0
// kernel/bpf/attach.h: attaching programs through bpf_link inside a namespace (XDP link in
// driver mode, TCX with a clsact fallback). Every attachment is an RAII guard that undoes only
// what it made; destructors log and never throw. Interface indexes are resolved in the
// namespace of the calling thread, so every attach/detach here runs on a short-lived thread
// inside the named namespace (run_in_netns).
#pragma once
#include <linux/if_link.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace pb::bpf {

// An XDP program attached through a bpf_link to `dev` in namespace `ns`, in driver (native) mode:
// XDP_FLAGS_DRV_MODE makes the kernel refuse rather than silently fall back to generic XDP,
// which would measure something else. The link goes with the fd, so a dying process detaches.
// Registered process-wide by ns/dev so a workload can swap the program for its own run
// (XdpOverride): an interface has one XDP program.
class XdpLink {
 public:
  XdpLink(const std::string& ns, const std::string& dev, int prog_fd,
          uint32_t flags = XDP_FLAGS_DRV_MODE);
  ~XdpLink();
  XdpLink(const XdpLink&) = delete;
  XdpLink& operator=(const XdpLink&) = delete;
  int fd() const { return fd_; }
  const std::string& where() const { return where_; }  // "ns/dev"

 private:
  std::string where_;
  int fd_ = -1;
};

// Puts `prog_fd` on ns/dev for this object's life: if this process holds the interface's XDP
// link (XdpLink), the link's program is swapped (bpf_link_update) and restored afterwards; if
// nothing is attached, a new XdpLink is made; if someone else's program is attached, throws
// EnvError. With keep_existing, an interface that already runs any XDP program is left alone
// (enough when all that is needed is "some XDP program", e.g. so a veth accepts XDP frames).
class XdpOverride {
 public:
  XdpOverride(const std::string& ns, const std::string& dev, int prog_fd, bool keep_existing);
  ~XdpOverride();
  XdpOverride(const XdpOverride&) = delete;
  XdpOverride& operator=(const XdpOverride&) = delete;
  // "attached" (new link), "swapped" (replaced our own link's program), "kept" (left as is)
  const std::string& action() const { return action_; }

 private:
  std::string where_, action_;
  std::unique_ptr<XdpLink> own_;
  int link_fd_ = -1;      // swapped: the registered link
  int old_prog_fd_ = -1;  // swapped: its previous program (dup)
  int new_prog_fd_ = -1;
};

// ID of the XDP program attached to ns/dev (0: none).
uint32_t xdp_attached_id(const std::string& ns, const std::string& dev);

// How TC programs attach (`pathbench run --tc-attach`, process-wide): auto = a TCX link where
// the kernel has it (Linux 6.6+), else clsact; clsact = always the classic hook (tests the
// fallback, compares the two hooks).
enum class TcAttachMode { kAuto, kClsact };
void set_tc_attach_mode(TcAttachMode m);
TcAttachMode tc_attach_mode();

// Does this kernel have TCX (bpf_link on tc ingress)? Probed once, in a throwaway namespace.
bool tcx_available();

// Does this kernel's bpf_sk_assign (at TC ingress) take a socket of a SO_REUSEPORT group? Before
// Linux 6.5 it returns -ESOCKTNOSUPPORT for one (upstream "bpf, net: Support SO_REUSEPORT sockets
// with bpf_sk_assign", Lorenz Bauer, 2023), so the SYN is not delivered to the proxy. Decided by
// the kernel release: a functional probe needs a TC program with a socket map and a connection,
// and the release is exact for upstream and Debian kernels (no backport of the change to 6.1).
// nullopt: it does; otherwise why not.
std::optional<std::string> sk_assign_reuseport_missing(const std::string& release);

// A TC attachment on ns/dev, ingress (default) or egress: a TCX link (Linux 6.6+) when the kernel
// has it, else the classic clsact qdisc + cls_bpf filter (direct-action). The qdisc is removed on
// destruction only when this object created it. TCX links chain: several programs on one hook run
// in attach order (a program returning TCX_NEXT / TC_ACT_UNSPEC lets the next one run).
enum class TcDirection { kIngress, kEgress };
class TcHook {
 public:
  // clsact_priority: the filter priority on the classic hook (0: the kernel picks; 1 = first).
  // first: run ahead of the programs already on the hook (TCX: BPF_F_BEFORE; clsact: priority 1),
  // as an observer must, since a program ahead of it may end the chain (TC_ACT_OK).
  TcHook(const std::string& ns, const std::string& dev, int prog_fd, uint32_t clsact_priority = 0,
         TcDirection dir = TcDirection::kIngress, bool first = false);
  ~TcHook();
  TcHook(const TcHook&) = delete;
  TcHook& operator=(const TcHook&) = delete;
  const std::string& mode() const { return mode_; }  // "tcx" | "clsact"

 private:
  std::string ns_, dev_, mode_;
  int ifindex_ = 0;
  int link_fd_ = -1;
  bool egress_ = false;
  bool created_qdisc_ = false;
  uint32_t handle_ = 0, priority_ = 0;
};

}  // namespace pb::bpf

// SPDX-License-Identifier: Apache-2.0
#include "kernel/bpf/attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "common/error.h"
#include "common/log.h"
#include "kernel/bpf/skeleton.h"
#include "kernel/host.h"
#include "kernel/netns.h"

namespace pb::bpf {

namespace {

// Interface index of `dev` in the calling thread's namespace; throws EnvError when absent.
unsigned ifindex_here(const std::string& ns, const std::string& dev) {
  unsigned idx = if_nametoindex(dev.c_str());
  if (!idx) throw EnvError(errno_msg("if_nametoindex(" + dev + ") in namespace " + ns, errno));
  return idx;
}

// Process-wide registry of XDP links this process holds: "ns/dev" -> link fd.
std::mutex g_xdp_mu;
std::map<std::string, int>& xdp_registry() {
  static std::map<std::string, int> m;
  return m;
}

// BPF_TCX_INGRESS (Linux 6.6) is missing from Debian 12's 6.1 uapi headers.
constexpr int kBpfTcxIngress = 46;
constexpr int kBpfTcxEgress = 47;
constexpr uint32_t kBpfFBefore = 1U << 3;  // BPF_F_BEFORE (6.6 uapi)

std::atomic<TcAttachMode> g_tc_mode{TcAttachMode::kAuto};

}  // namespace

void set_tc_attach_mode(TcAttachMode m) { g_tc_mode = m; }
TcAttachMode tc_attach_mode() { return g_tc_mode; }

XdpLink::XdpLink(const std::string& ns, const std::string& dev, int prog_fd, uint32_t flags)
    : where_(ns + "/" + dev) {
  install_libbpf_logger();
  int fd = -1;
  run_in_netns(ns, [&] {
    unsigned idx = ifindex_here(ns, dev);
    bpf_link_create_opts opts{};
    opts.sz = sizeof(opts);
    opts.flags = flags;
    fd = bpf_link_create(prog_fd, static_cast<int>(idx), BPF_XDP, &opts);
  });
  if (fd < 0)
    throw BpfError(errno_msg(fmt::format("bpf_link_create(xdp{}, dev={}, netns={})",
                                         flags & XDP_FLAGS_DRV_MODE ? ", driver mode" : "", dev, ns),
                             -fd));
  fd_ = fd;
  std::lock_guard<std::mutex> lk(g_xdp_mu);
  xdp_registry()[where_] = fd_;
}

XdpLink::~XdpLink() {
  {
    std::lock_guard<std::mutex> lk(g_xdp_mu);
    auto it = xdp_registry().find(where_);
    if (it != xdp_registry().end() && it->second == fd_) xdp_registry().erase(it);
  }
  if (fd_ >= 0) close(fd_);  // not pinned: closing the last fd detaches the program
}

uint32_t xdp_attached_id(const std::string& ns, const std::string& dev) {
  __u32 id = 0;
  int err = 0;
  run_in_netns(ns, [&] { err = bpf_xdp_query_id(static_cast<int>(ifindex_here(ns, dev)), 0, &id); });
  if (err) throw BpfError(errno_msg("bpf_xdp_query_id(dev=" + dev + ", netns=" + ns + ")", -err));
  return id;
}

XdpOverride::XdpOverride(const std::string& ns, const std::string& dev, int prog_fd,
                         bool keep_existing)
    : where_(ns + "/" + dev) {
  int registered = -1;
  {
    std::lock_guard<std::mutex> lk(g_xdp_mu);
    auto it = xdp_registry().find(where_);
    if (it != xdp_registry().end()) registered = it->second;
  }
  if (registered >= 0) {
    if (keep_existing) {
      action_ = "kept";
      return;
    }
    bpf_link_info info{};
    __u32 len = sizeof(info);
    if (int err = bpf_obj_get_info_by_fd(registered, &info, &len))
      throw BpfError(errno_msg("bpf_obj_get_info_by_fd(xdp link " + where_ + ")", -err));
    int old = bpf_prog_get_fd_by_id(info.prog_id);
    if (old < 0) throw BpfError(errno_msg("bpf_prog_get_fd_by_id(" + where_ + ")", -old));
    int link = dup(registered);  // keeps the link valid even if its owner goes first
    if (link < 0) {
      close(old);
      throw_errno("dup(xdp link)", errno);
    }
    if (int err = bpf_link_update(link, prog_fd, nullptr)) {
      close(old);
      close(link);
      throw BpfError(errno_msg("bpf_link_update(xdp " + where_ + ")", -err));
    }
    link_fd_ = link;
    old_prog_fd_ = old;
    action_ = "swapped";
    return;
  }
  uint32_t id = xdp_attached_id(ns, dev);
  if (id) {
    if (keep_existing) {
      action_ = "kept";
      return;
    }
    throw EnvError(fmt::format("{} runs XDP program id {} that this process did not attach; "
                               "cannot put our own program there",
                               where_, id));
  }
  own_ = std::make_unique<XdpLink>(ns, dev, prog_fd);
  action_ = "attached";
}

XdpOverride::~XdpOverride() {
  if (link_fd_ >= 0) {
    if (int err = bpf_link_update(link_fd_, old_prog_fd_, nullptr))
      log::warn("{}", errno_msg("restoring the XDP program on " + where_ + ": bpf_link_update", -err));
    close(link_fd_);
    close(old_prog_fd_);
  }
}

TcHook::TcHook(const std::string& ns, const std::string& dev, int prog_fd, uint32_t clsact_priority,
               TcDirection dir, bool first)
    : ns_(ns), dev_(dev), egress_(dir == TcDirection::kEgress) {
  const char* where = egress_ ? "egress" : "ingress";
  if (first) clsact_priority = 1;
  install_libbpf_logger();
  std::string error;
  run_in_netns(ns, [&] {
    ifindex_ = static_cast<int>(ifindex_here(ns, dev));
    // TCX (bpf_link, 6.6+): the link goes with the fd, and it does not need a qdisc.
    // --tc-attach clsact skips it (tests the fallback; compares the two hooks).
    const bool clsact_only = tc_attach_mode() == TcAttachMode::kClsact;
    // BPF_F_BEFORE with no relative program: ahead of every program on the hook (libbpf 1.1 has no
    // tcx options; it passes `flags` through, and relative_fd stays 0).
    bpf_link_create_opts lo{};
    lo.sz = sizeof(lo);
    lo.flags = first ? kBpfFBefore : 0;
    int fd = clsact_only ? -EOPNOTSUPP
                         : bpf_link_create(prog_fd, ifindex_,
                                           static_cast<bpf_attach_type>(egress_ ? kBpfTcxEgress : kBpfTcxIngress), &lo);
    if (fd >= 0) {
      link_fd_ = fd;
      mode_ = "tcx";
      return;
    }
    if (fd != -EINVAL && fd != -EOPNOTSUPP && fd != -524 /* kernel-internal ENOTSUPP */) {
      error = errno_msg(fmt::format("bpf_link_create(tcx {}, dev={}, netns={})", where, dev, ns), -fd);
      return;
    }
    log::debug("TCX link on {}/{} not available ({}); falling back to clsact", ns, dev,
               std::strerror(-fd));
    bpf_tc_hook hook{};
    hook.sz = sizeof(hook);
    hook.ifindex = ifindex_;
    hook.attach_point = egress_ ? BPF_TC_EGRESS : BPF_TC_INGRESS;
    int err = bpf_tc_hook_create(&hook);
    if (err && err != -EEXIST) {
      error = errno_msg(fmt::format("bpf_tc_hook_create(dev={}, clsact)", dev), -err);
      return;
    }
    created_qdisc_ = err == 0;
    bpf_tc_opts opts{};
    opts.sz = sizeof(opts);
    opts.prog_fd = prog_fd;
    opts.priority = clsact_priority;
    err = bpf_tc_attach(&hook, &opts);
    if (err) {
      error = errno_msg(fmt::format("bpf_tc_attach(dev={}, {})", dev, where), -err);
      if (created_qdisc_) {
        hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
        bpf_tc_hook_destroy(&hook);
      }
      return;
    }
    handle_ = opts.handle;
    priority_ = opts.priority;
    mode_ = "clsact";
  });
  if (!error.empty()) throw BpfError(error);
}

TcHook::~TcHook() {
  if (link_fd_ >= 0) {
    close(link_fd_);
    return;
  }
  if (mode_ != "clsact") return;
  try {
    run_in_netns(ns_, [&] {
      bpf_tc_hook hook{};
      hook.sz = sizeof(hook);
      hook.ifindex = ifindex_;
      hook.attach_point = egress_ ? BPF_TC_EGRESS : BPF_TC_INGRESS;
      bpf_tc_opts opts{};
      opts.sz = sizeof(opts);
      opts.handle = handle_;
      opts.priority = priority_;
      if (int err = bpf_tc_detach(&hook, &opts))
        log::warn("{}", errno_msg("bpf_tc_detach(dev=" + dev_ + ", ingress)", -err));
      if (created_qdisc_) {
        hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
        if (int err = bpf_tc_hook_destroy(&hook))
          log::warn("{}", errno_msg("bpf_tc_hook_destroy(dev=" + dev_ + ", clsact)", -err));
      }
    });
  } catch (const std::exception& e) {
    log::warn("detaching tc program from {}/{}: {}", ns_, dev_, e.what());
  }
}

}  // namespace pb::bpf

namespace pb::bpf {

std::optional<std::string> sk_assign_reuseport_missing(const std::string& release) {
  if (release_at_least(release, 6, 5)) return std::nullopt;
  return "bpf_sk_assign refuses SO_REUSEPORT sockets before Linux 6.5 (-ESOCKTNOSUPPORT; upstream \"bpf, net: "
         "Support SO_REUSEPORT sockets with bpf_sk_assign\"), and the proxy's listeners are a reuseport group; "
         "this kernel is " + release;
}

bool tcx_available() {
  static const bool avail = [] {
    bool ok = false;
    try {
      run_in_throwaway_netns([&] {
        // r0 = 0 (TC_ACT_OK); exit: the smallest sched_cls program, on the new namespace's lo.
        bpf_insn insns[2] = {};
        insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
        insns[0].dst_reg = BPF_REG_0;
        insns[1].code = BPF_JMP | BPF_EXIT;
        int prog = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "pb_tcx_probe", "GPL", insns, 2, nullptr);
        if (prog < 0) return;
        int lo = static_cast<int>(if_nametoindex("lo"));
        int link = lo ? bpf_link_create(prog, lo, static_cast<bpf_attach_type>(kBpfTcxIngress), nullptr) : -1;
        ok = link >= 0;
        if (link >= 0) close(link);
        close(prog);
      });
    } catch (const std::exception&) {
    }
    return ok;
  }();
  return avail;
}

}  // namespace pb::bpf

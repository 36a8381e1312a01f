// bpf_util.cpp: see bpf_util.h.
#include "core/bpf_util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <memory>
#include <mutex>

#include "core/log.h"
#include "core/util.h"

namespace pb::bpf {

namespace {

thread_local std::vector<std::string>* t_capture = nullptr;

int libbpf_print(enum libbpf_print_level level, const char* format, va_list args) {
  va_list copy;
  va_copy(copy, args);
  int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n <= 0) return 0;
  std::string text(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(text.data(), text.size(), format, args);
  text.resize(static_cast<size_t>(n));
  for (auto& line : split(text, '\n')) {
    if (line.empty()) continue;
    if (t_capture && t_capture->size() < 100000) t_capture->push_back(line);
    // Everything libbpf says is detail (shown with -v); failures reach the user through the
    // exception that carries the verifier log tail.
    if (level != LIBBPF_DEBUG || log::verbose()) log::debug("libbpf: {}", line);
  }
  return n;
}

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

}  // namespace

void install_libbpf_logger() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(libbpf_print); });
}

LogCapture::LogCapture() : saved_(t_capture) { t_capture = &lines_; }
LogCapture::~LogCapture() { t_capture = saved_; }

std::string LogCapture::tail(size_t n) const {
  // The verifier log sits between libbpf's "-- BEGIN PROG LOAD LOG --" and "-- END ... --".
  size_t begin = lines_.size(), end = lines_.size();
  for (size_t i = lines_.size(); i-- > 0;) {
    if (lines_[i].find("-- END PROG LOAD LOG --") != std::string::npos && end == lines_.size()) end = i;
    if (lines_[i].find("-- BEGIN PROG LOAD LOG --") != std::string::npos) {
      begin = i + 1;
      break;
    }
  }
  std::string what = "verifier log tail";
  if (begin >= lines_.size()) {  // no verifier log: libbpf's own messages
    begin = 0;
    end = lines_.size();
    what = "libbpf log tail";
  }
  if (end <= begin) return "";
  size_t from = end - begin > n ? end - n : begin;
  std::string out = "; " + what + ":";
  for (size_t i = from; i < end; ++i) out += "\n  " + lines_[i];
  return out;
}

std::string load_error(const std::string& what, int err, const LogCapture& cap) {
  return errno_msg(what, err) + cap.tail();
}

// ---- stats and counters ----------------------------------------------------------------------

StatsEnabler::StatsEnabler() {
  if (const char* e = std::getenv("PATHBENCH_BPF_STATS"); e && std::string(e) == "0") {
    reason_ = "disabled by PATHBENCH_BPF_STATS=0";
    return;
  }
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) {
    reason_ = errno_msg("bpf(BPF_ENABLE_STATS, BPF_STATS_RUN_TIME)", -fd);
    log::warn("{}: in-kernel program cost will not be measured", reason_);
    return;
  }
  fd_ = fd;
}

StatsEnabler::~StatsEnabler() {
  if (fd_ >= 0) close(fd_);
}

double stats_sample_seconds(double warmup_s, double duration_s) {
  if (stats_sample_in_warmup(warmup_s)) return std::min(0.5, warmup_s * 0.8);
  return std::max(0.01, std::min(0.2, duration_s * 0.1));
}

void StatsSampler::start(double seconds, bool in_warmup) {
  stop();
  in_warmup_ = in_warmup;
  const char* env = std::getenv("PATHBENCH_BPF_STATS");
  always_ = env && std::string(env) == "always";
  auto en = std::make_shared<StatsEnabler>();
  enabled_ = en->enabled();
  reason_ = en->reason();
  on_ns_ = 0;
  if (!enabled_) return;
  stop_ = false;
  const uint64_t t0 = mono_ns();
  thread_ = std::thread([this, en, seconds, t0]() mutable {
    std::unique_lock<std::mutex> lk(mu_);
    if (always_)
      cv_.wait(lk, [&] { return stop_; });
    else
      cv_.wait_for(lk, std::chrono::duration<double>(seconds), [&] { return stop_; });
    en.reset();  // closes the fd: stats off
    on_ns_ = mono_ns() - t0;
  });
}

void StatsSampler::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

nlohmann::json StatsSampler::to_json() const {
  nlohmann::json j = {{"enabled", enabled_}};
  if (!enabled_) {
    j["reason"] = reason_;
    return j;
  }
  j["window"] = always_     ? "whole workload (PATHBENCH_BPF_STATS=always)"
                : in_warmup_ ? "sampled at the start of the workload (warm-up), off while measuring"
                             : "sampled at the start of the measured window (no warm-up): those "
                               "packets paid the stats' cost";
  j["enabled_ms"] = static_cast<double>(on_ns_) / 1e6;
  return j;
}

ProgStats prog_stats(int prog_fd) {
  bpf_prog_info info{};
  __u32 len = sizeof(info);
  int err = bpf_obj_get_info_by_fd(prog_fd, &info, &len);
  if (err) throw BpfError(errno_msg("bpf_obj_get_info_by_fd(prog)", -err));
  ProgStats s;
  s.run_cnt = info.run_cnt;
  s.run_time_ns = info.run_time_ns;
  s.id = info.id;
  s.name = info.name;
  return s;
}

template <class T>
static std::vector<T> read_percpu(int map_fd, uint32_t n) {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) throw BpfError(errno_msg("libbpf_num_possible_cpus", -ncpu));
  static_assert(sizeof(T) % 8 == 0, "per-CPU values are 8-byte aligned in the kernel's copy");
  std::vector<T> out(n), vals(static_cast<size_t>(ncpu));
  for (uint32_t k = 0; k < n; ++k) {
    if (bpf_map_lookup_elem(map_fd, &k, vals.data()))
      throw BpfError(errno_msg("bpf_map_lookup_elem(per-CPU counters)", errno));
    for (auto& v : vals) {
      if constexpr (std::is_same_v<T, pb_counter>) {
        out[k].packets += v.packets;
        out[k].bytes += v.bytes;
      } else {
        out[k] += v;
      }
    }
  }
  return out;
}

std::vector<pb_counter> read_percpu_counters(int map_fd, uint32_t n) {
  return read_percpu<pb_counter>(map_fd, n);
}
std::vector<uint64_t> read_percpu_u64(int map_fd, uint32_t n) {
  return read_percpu<uint64_t>(map_fd, n);
}

const char* fwd_reason_name(uint32_t reason) {
  switch (reason) {
    case PB_FWD_FORWARDED: return "forwarded";
    case PB_FWD_PASS_NOT_IPV4: return "pass_not_ipv4";
    case PB_FWD_PASS_TTL: return "pass_ttl_expired";
    case PB_FWD_PASS_NO_ROUTE: return "pass_no_route";
    case PB_FWD_PASS_NO_NEIGH: return "pass_no_neighbour";
    case PB_FWD_PASS_FRAG: return "pass_frag_needed";
    case PB_FWD_PASS_NO_TXPORT: return "pass_not_in_devmap";
    case PB_FWD_PASS_MALFORMED: return "pass_malformed";
    case PB_FWD_DROP_REDIRECT: return "dropped_redirect_failed";
    default: return "unknown";
  }
}

uint64_t fwd_packets(const std::vector<pb_counter>& now, const std::vector<pb_counter>* before,
                     uint32_t reason, int slot) {
  uint64_t sum = 0;
  for (int s = 0; s < PB_SLOTS; ++s) {
    if (slot >= 0 && s != slot) continue;
    size_t k = static_cast<size_t>(s) * PB_FWD_REASONS + reason;
    if (k >= now.size()) continue;
    sum += now[k].packets - (before && k < before->size() ? (*before)[k].packets : 0);
  }
  return sum;
}

nlohmann::json fwd_counters_json(const std::vector<pb_counter>& now,
                                 const std::vector<pb_counter>* before, int slot) {
  nlohmann::json j = nlohmann::json::object();
  for (uint32_t r = 0; r < PB_FWD_REASONS; ++r) {
    uint64_t pk = 0, by = 0;
    for (int s = 0; s < PB_SLOTS; ++s) {
      if (slot >= 0 && s != slot) continue;
      size_t k = static_cast<size_t>(s) * PB_FWD_REASONS + r;
      if (k >= now.size()) continue;
      pk += now[k].packets - (before && k < before->size() ? (*before)[k].packets : 0);
      by += now[k].bytes - (before && k < before->size() ? (*before)[k].bytes : 0);
    }
    if (pk || r == PB_FWD_FORWARDED) j[fwd_reason_name(r)] = {{"packets", pk}, {"bytes", by}};
  }
  return j;
}

std::vector<uint32_t> loaded_prog_ids() {
  std::vector<uint32_t> ids;
  __u32 id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) ids.push_back(id);
  return ids;
}

// ---- attachments -----------------------------------------------------------------------------

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

TcIngress::TcIngress(const std::string& ns, const std::string& dev, int prog_fd)
    : ns_(ns), dev_(dev) {
  install_libbpf_logger();
  std::string error;
  run_in_netns(ns, [&] {
    ifindex_ = static_cast<int>(ifindex_here(ns, dev));
    // TCX (bpf_link, 6.6+): the link goes with the fd, and it does not need a qdisc.
    // PATHBENCH_TC_ATTACH=clsact skips it (tests the fallback; compares the two hooks).
    const char* force = std::getenv("PATHBENCH_TC_ATTACH");
    const bool clsact_only = force && std::string(force) == "clsact";
    int fd = clsact_only ? -EOPNOTSUPP
                         : bpf_link_create(prog_fd, ifindex_, static_cast<bpf_attach_type>(kBpfTcxIngress), nullptr);
    if (fd >= 0) {
      link_fd_ = fd;
      mode_ = "tcx";
      return;
    }
    if (fd != -EINVAL && fd != -EOPNOTSUPP && fd != -524 /* kernel-internal ENOTSUPP */) {
      error = errno_msg(fmt::format("bpf_link_create(tcx ingress, dev={}, netns={})", dev, ns), -fd);
      return;
    }
    log::debug("TCX link on {}/{} not available ({}); falling back to clsact", ns, dev,
               std::strerror(-fd));
    bpf_tc_hook hook{};
    hook.sz = sizeof(hook);
    hook.ifindex = ifindex_;
    hook.attach_point = BPF_TC_INGRESS;
    int err = bpf_tc_hook_create(&hook);
    if (err && err != -EEXIST) {
      error = errno_msg(fmt::format("bpf_tc_hook_create(dev={}, clsact)", dev), -err);
      return;
    }
    created_qdisc_ = err == 0;
    bpf_tc_opts opts{};
    opts.sz = sizeof(opts);
    opts.prog_fd = prog_fd;
    err = bpf_tc_attach(&hook, &opts);
    if (err) {
      error = errno_msg(fmt::format("bpf_tc_attach(dev={}, ingress)", dev), -err);
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

TcIngress::~TcIngress() {
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
      hook.attach_point = BPF_TC_INGRESS;
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

// ---- BPF_PROG_TEST_RUN ---------------------------------------------------------------------

void run_in_throwaway_netns(const std::function<void()>& fn) {
  std::exception_ptr err;
  std::thread t([&] {
    try {
      if (unshare(CLONE_NEWNET) != 0)
        log::debug("{}", errno_msg("unshare(CLONE_NEWNET) for a probe; probing in place", errno));
      fn();
    } catch (...) {
      err = std::current_exception();
    }
  });
  t.join();
  if (err) std::rethrow_exception(err);
}

TestRun test_run_xdp(int prog_fd, const std::vector<uint8_t>& pkt, uint32_t ingress_ifindex,
                     uint32_t repeat) {
  TestRun r;
  r.out.resize(pkt.size() + 256);
  xdp_md ctx{};
  ctx.data_end = static_cast<__u32>(pkt.size());
  ctx.ingress_ifindex = ingress_ifindex;
  bpf_test_run_opts o{};
  o.sz = sizeof(o);
  o.data_in = pkt.data();
  o.data_size_in = static_cast<__u32>(pkt.size());
  o.data_out = r.out.data();
  o.data_size_out = static_cast<__u32>(r.out.size());
  if (ingress_ifindex) {
    o.ctx_in = &ctx;
    o.ctx_size_in = sizeof(ctx);
  }
  o.repeat = repeat;
  int err = bpf_prog_test_run_opts(prog_fd, &o);
  r.err = err;
  r.retval = o.retval;
  r.duration_ns = o.duration;
  r.out.resize(err ? 0 : o.data_size_out);
  return r;
}

TestRun test_run_tc(int prog_fd, const std::vector<uint8_t>& pkt, uint32_t ifindex,
                    uint32_t repeat) {
  TestRun r;
  r.out.resize(pkt.size() + 256);
  __sk_buff ctx{};
  ctx.ifindex = ifindex;
  ctx.ingress_ifindex = ifindex;
  bpf_test_run_opts o{};
  o.sz = sizeof(o);
  o.data_in = pkt.data();
  o.data_size_in = static_cast<__u32>(pkt.size());
  o.data_out = r.out.data();
  o.data_size_out = static_cast<__u32>(r.out.size());
  if (ifindex) {
    o.ctx_in = &ctx;
    o.ctx_size_in = sizeof(ctx);
  }
  o.repeat = repeat;
  int err = bpf_prog_test_run_opts(prog_fd, &o);
  r.err = err;
  r.retval = o.retval;
  r.duration_ns = o.duration;
  r.out.resize(err ? 0 : o.data_size_out);
  return r;
}

}  // namespace pb::bpf

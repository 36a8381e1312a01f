// bpf_util.h: the user-space side of pathbench's BPF programs, shared by paths, workloads, tests
// and micro-benchmarks: loading skeletons with the verifier log in the error, attaching through
// bpf_link inside a namespace (XDP link in driver mode, TCX with a clsact fallback), per-CPU
// counters, BPF run-time stats, BPF_PROG_TEST_RUN. Every attachment is an RAII guard that undoes
// only what it made; destructors log and never throw.
//
// Namespaces: interface indexes are resolved in the namespace of the calling thread, so every
// attach/detach here runs on a short-lived thread inside the named namespace (run_in_netns).
#pragma once
#include <linux/if_link.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "pb_shared.h"

namespace pb::bpf {

static_assert(sizeof(pb_counter) == 16, "pb_counter layout is shared with bpf/pb_shared.h");
static_assert(PB_FWD_COUNTERS == 27, "3 slots x 9 reasons");

// ---- libbpf log -------------------------------------------------------------------------------

// Routes libbpf's log to pb::log::debug (shown with -v). Idempotent; the loaders call it.
void install_libbpf_logger();

// Collects libbpf's log lines printed by this thread while alive, so a failed load can say why.
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  // The last `n` lines of the verifier log (or of libbpf's log when there is no verifier log),
  // as "; verifier log tail:\n  line\n  line", or "" when nothing was logged.
  std::string tail(size_t n = 12) const;

 private:
  std::vector<std::string> lines_;
  std::vector<std::string>* saved_;
};

// Loads a skeleton (opened, rodata set) and throws BpfError("load <what>: <errno>; verifier log
// tail: ...") when the kernel refuses it.
template <class Skel>
void load_skeleton(Skel* s, const std::string& what);

// Opens a skeleton; throws BpfError on failure.
template <class Skel>
Skel* open_skeleton(const std::string& what);

// unique_ptr that destroys a skeleton.
template <class Skel>
struct SkelDeleter {
  void operator()(Skel* s) const { Skel::destroy(s); }
};
template <class Skel>
using SkelPtr = std::unique_ptr<Skel, SkelDeleter<Skel>>;

// ---- stats and counters ----------------------------------------------------------------------

// BPF run-time statistics (run_cnt, run_time_ns per program), on while this object lives.
// Uses the BPF_ENABLE_STATS bpf() command, not the kernel.bpf_stats_enabled sysctl: stats stay on
// only while the returned fd is open, so a killed process turns them off by itself (a sysctl
// write would stay behind), and we never touch a host-wide knob. PATHBENCH_BPF_STATS=0 in the
// environment leaves them off.
//
// Stats are not free: every program run then reads the clock twice, and on this VM (kvm pvclock)
// that cost xdp_pps a third of its rate (xdp-redirect 3.1-3.3 Mpps without, 1.96 with; baseline
// 1.3 vs 1.03, through the generator, pass and sink programs), far above the ~25 ns/run of
// FIELD-NOTES. So measurements never run with stats on: use StatsSampler.
class StatsEnabler {
 public:
  StatsEnabler();
  ~StatsEnabler();
  StatsEnabler(const StatsEnabler&) = delete;
  StatsEnabler& operator=(const StatsEnabler&) = delete;
  bool enabled() const { return fd_ >= 0; }
  const std::string& reason() const { return reason_; }  // why not enabled

 private:
  int fd_ = -1;
  std::string reason_;
};

// Turns BPF run-time stats on for a bounded time, from start() until `seconds` later (a
// background thread closes the stats fd) or stop(). Callers sample program cost during a
// workload's warm-up, so the measured window runs without the stats' overhead.
// PATHBENCH_BPF_STATS=always keeps them on until stop() (the whole workload).
class StatsSampler {
 public:
  StatsSampler() = default;
  ~StatsSampler() { stop(); }
  StatsSampler(const StatsSampler&) = delete;
  StatsSampler& operator=(const StatsSampler&) = delete;
  // in_warmup: the sample falls in the workload's warm-up (else it overlaps the measurement).
  void start(double seconds, bool in_warmup);
  void stop();                                      // idempotent; joins the thread
  bool enabled() const { return enabled_; }         // did enabling succeed (last start)
  const std::string& reason() const { return reason_; }
  uint64_t enabled_ns() const { return on_ns_; }    // how long they were on (after stop)
  nlohmann::json to_json() const;                   // {"enabled", "window", "enabled_ms"|"reason"}

 private:
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, enabled_ = false, always_ = false, in_warmup_ = true;
  std::string reason_;
  uint64_t on_ns_ = 0;
};

// How long to sample BPF stats for a workload: most of its warm-up (at most 0.5 s), or, without
// a warm-up, a tenth of the measured window (the overlap is then recorded).
double stats_sample_seconds(double warmup_s, double duration_s);
inline bool stats_sample_in_warmup(double warmup_s) { return warmup_s > 0.02; }

struct ProgStats {
  uint64_t run_cnt = 0;
  uint64_t run_time_ns = 0;
  uint32_t id = 0;
  std::string name;
};
ProgStats prog_stats(int prog_fd);  // throws BpfError

// Sum over CPUs of a per-CPU array of pb_counter / __u64 values, entries [0, n).
std::vector<pb_counter> read_percpu_counters(int map_fd, uint32_t n);
std::vector<uint64_t> read_percpu_u64(int map_fd, uint32_t n);

// Names of the forwarding reasons (pb_fwd_reason), for JSON: "forwarded", "pass_ttl", ...
const char* fwd_reason_name(uint32_t reason);
// {"forwarded": {"packets": n, "bytes": b}, "pass_ttl_expired": ...} of one slot's counters (all
// slots when slot < 0), minus `before` (same size) when given; reasons that did not move are
// left out, "forwarded" is always there.
nlohmann::json fwd_counters_json(const std::vector<pb_counter>& now,
                                 const std::vector<pb_counter>* before, int slot);
uint64_t fwd_packets(const std::vector<pb_counter>& now, const std::vector<pb_counter>* before,
                     uint32_t reason, int slot = -1);

// IDs of every BPF program loaded on the machine (bpf_prog_get_next_id); for leak checks.
std::vector<uint32_t> loaded_prog_ids();

// ---- attachments -----------------------------------------------------------------------------

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

// A TC ingress attachment on ns/dev: a TCX link (Linux 6.6+) when the kernel has it, else the
// classic clsact qdisc + cls_bpf filter (direct-action). The qdisc is removed on destruction
// only when this object created it. PATHBENCH_TC_ATTACH=clsact forces the classic hook.
class TcIngress {
 public:
  TcIngress(const std::string& ns, const std::string& dev, int prog_fd);
  ~TcIngress();
  TcIngress(const TcIngress&) = delete;
  TcIngress& operator=(const TcIngress&) = delete;
  const std::string& mode() const { return mode_; }  // "tcx" | "clsact"

 private:
  std::string ns_, dev_, mode_;
  int ifindex_ = 0;
  int link_fd_ = -1;
  bool created_qdisc_ = false;
  uint32_t handle_ = 0, priority_ = 0;
};

// ---- BPF_PROG_TEST_RUN ---------------------------------------------------------------------

// Runs fn on a fresh thread inside a new, empty network namespace (unshare(CLONE_NEWNET) on that
// thread; it disappears with the thread), so feasibility probes that run programs touch nothing
// real. Falls back to the caller's namespace when unshare is not permitted. Rethrows fn's
// exception.
void run_in_throwaway_netns(const std::function<void()>& fn);

struct TestRun {
  int err = 0;               // 0 or -errno
  uint32_t retval = 0;       // program's verdict
  uint32_t duration_ns = 0;  // kernel's average per repetition
  std::vector<uint8_t> out;  // packet after the program
};
// Runs an XDP program on `pkt` as if received on ingress_ifindex (0: loopback) of the calling
// thread's namespace. `repeat` > 1 for timing.
TestRun test_run_xdp(int prog_fd, const std::vector<uint8_t>& pkt, uint32_t ingress_ifindex,
                     uint32_t repeat = 1);
// Runs a TC (sched_cls) program on `pkt` as an skb received on ifindex.
TestRun test_run_tc(int prog_fd, const std::vector<uint8_t>& pkt, uint32_t ifindex,
                    uint32_t repeat = 1);

// ---- template definitions -------------------------------------------------------------------

std::string load_error(const std::string& what, int err, const LogCapture& cap);

template <class Skel>
Skel* open_skeleton(const std::string& what) {
  install_libbpf_logger();
  LogCapture cap;
  Skel* s = Skel::open();
  if (!s) throw BpfError(load_error("open " + what, errno, cap));
  return s;
}

template <class Skel>
void load_skeleton(Skel* s, const std::string& what) {
  install_libbpf_logger();
  LogCapture cap;
  int err = Skel::load(s);
  if (err) throw BpfError(load_error("load " + what, -err, cap));
}

}  // namespace pb::bpf

// workloads/engine.h: the shared engine of the socket workloads (neper's shape).
// A run has client flows (one thread each, blocking I/O with short timeouts so they see the stop
// flag) in the client namespace, one epoll responder thread in the server namespace, and a
// controller (the calling thread) that walks the phases warm-up -> measure -> cool-down -> stop,
// snapshots counters and /proc/stat at the window edges, and runs the watchdog.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/histogram.h"
#include "core/workload.h"

namespace pb::engine {

enum Phase : int { kWarmup = 0, kMeasure = 1, kCooldown = 2, kStop = 3 };

// Per-flow counters; padded so flows on different CPUs do not share a cache line.
struct alignas(64) FlowStats {
  std::atomic<uint64_t> transactions{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> lost{0};        // udp_rr requests without a response in time
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> errors{0};
  Histogram hist;                       // only written by the flow's own thread
  std::string error;                    // first error, set before the flow exits
};

struct Shared {
  std::atomic<int> phase{kWarmup};
  const WorkloadOptions* opt = nullptr;
  bool measuring() const { return phase.load(std::memory_order_relaxed) == kMeasure; }
  bool stopping() const { return phase.load(std::memory_order_relaxed) == kStop; }
};

// A completed transaction that started at t0: its latency goes into the histogram only inside the
// measured window; the count always moves (totals, watchdog).
inline void record_transaction(FlowStats& st, const Shared& sh, uint64_t t0, uint64_t now) {
  if (sh.measuring()) st.hist.record(now - t0);
  st.transactions.fetch_add(1, std::memory_order_relaxed);
}

// Socket helpers shared by generators and responders.
int tcp_listen(const Endpoint& ep, int backlog = 4096);
int udp_bind(const Endpoint& ep, int rcvbuf = 0);
int tcp_connect(const Endpoint& target, int timeout_ms, std::string* err);
void set_timeouts(int fd, int ms);
void set_nodelay(int fd);
void pin_thread(int cpu);
// Reads exactly n bytes (stopping on stop flag / error); returns false on EOF or error.
bool read_full(int fd, char* buf, size_t n, const Shared& sh, std::string* err);
bool write_full(int fd, const char* buf, size_t n, const Shared& sh, std::string* err);

// The responder: one epoll thread in the server namespace. Modes by workload.
class Responder {
 public:
  Responder(const std::string& ns, const WorkloadOptions& opt, const Endpoint& bind, Shared& sh);
  ~Responder();
  void stop();
  uint64_t bytes_received() const { return bytes_.load(std::memory_order_relaxed); }
  uint64_t packets_received() const { return packets_.load(std::memory_order_relaxed); }
  uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
  std::string error() const;

 private:
  void loop_tcp();
  void loop_udp();
  void loop_tcp_blocking();
  void loop_udp_blocking();
  void stall_if_faulty();
  const WorkloadOptions& opt_;
  Shared& sh_;
  int listen_fd_ = -1, stop_fd_ = -1;
  std::atomic<uint64_t> bytes_{0}, packets_{0}, accepted_{0};
  std::atomic<bool> stop_req_{false};
  std::string error_;
  std::thread thread_;
};

// The client side of one workload: `flow_fn(flow_index, stats)` runs on its own thread inside
// the client namespace until sh.stopping().
using FlowFn = std::function<void(unsigned flow, FlowStats& st)>;

struct Window {
  uint64_t start_ns = 0, end_ns = 0;
  CpuUsage cpu;
  std::vector<uint64_t> tx0, tx1, by0, by1, pk0, pk1, lo0, lo1;
  uint64_t srv_bytes0 = 0, srv_bytes1 = 0, srv_packets0 = 0, srv_packets1 = 0;
  uint64_t retrans0 = 0, retrans1 = 0;
};

// Runs the phases; fills `win`; returns "" or the failure reason (watchdog, interrupt, errors).
std::string drive(const WorkloadContext& ctx, const WorkloadOptions& opt, Shared& sh,
                  std::vector<std::unique_ptr<FlowStats>>& flows, Responder& resp,
                  const FlowFn& flow_fn, Window& win);

}  // namespace pb::engine

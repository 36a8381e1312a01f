// SPDX-License-Identifier: Apache-2.0
// workloads/socket_load.h: what the socket workloads share (socket.cpp: tcp_*, udp_*; http.cpp:
// http_*): per-flow counters, one thread per flow under the controller, the open-loop schedule,
// and the metrics every request/response workload reports.
#pragma once
#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "measure/histogram.h"
#include "workloads/controller.h"
#include "workloads/responder.h"
#include "workloads/workload.h"

namespace pb::workload {

// Per-flow counters; padded so flows on different CPUs do not share a cache line.
struct alignas(64) FlowStats {
  std::atomic<uint64_t> transactions{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> lost{0};        // udp_rr requests without a response in time
  std::atomic<uint64_t> connections{0};
  Histogram hist;                       // transaction latency; only the flow's own thread writes
  Histogram connect_hist;               // tcp_crr: connect() latency
  std::string error;                    // first error, set before the flow exits
  std::atomic<bool> exited{false};      // error may be read once this is set
  std::string tcp_cc;                   // the congestion control its socket got
  int sndbuf = -1, rcvbuf = -1;         // SO_SNDBUF/SO_RCVBUF as the kernel reports them (2x what was set)
  nlohmann::json tcp_info;              // tcp_stream: the sender's TCP_INFO at the end
  // http: requests per route (index into WorkloadOptions::http_routes), in the measured window
  // (counted with the latency samples, so they sum to `samples`) and over the whole run (they sum
  // to totals.transactions). Written by the flow's thread, read after it was joined.
  std::vector<uint64_t> routes_window, routes_all;
  // Open loop: when the request the flow is sending or waiting on was due (read at the window's
  // end: how far behind its schedule the flow is), and the largest lateness of a send in the window.
  std::atomic<uint64_t> due_ns{0};
  uint64_t max_send_lag_ns = 0;
};

struct FlowArgs {
  const WorkloadContext& ctx;
  const WorkloadOptions& opt;
  const Phases& ph;
  unsigned index;
  FlowStats& st;
  uint64_t start_ns;  // the load's start: the open-loop schedule's origin, common to every flow
};
using FlowFn = void (*)(const FlowArgs&);

// A completed transaction that started at t0: its latency goes into the histogram only inside
// the measured window; the count always moves (totals, watchdog). `route`: the http route's index.
inline bool record_transaction(FlowStats& st, const Phases& ph, uint64_t t0, uint64_t now, size_t route = SIZE_MAX) {
  const bool measuring = ph.measuring();
  if (measuring) st.hist.record(now - t0);
  if (route != SIZE_MAX) {
    if (measuring) ++st.routes_window[route];
    ++st.routes_all[route];
  }
  st.transactions.fetch_add(1, std::memory_order_relaxed);
  return measuring;
}

// When each request is due. Closed loop (rate_rps 0): now, the next request leaves when the last
// response came back. Open loop: on a schedule fixed in advance, flow i's k-th request at
// start + (k * flows + i) / R, whatever happened to the requests before it; the latency is taken
// from that intended time, so a stall delays the requests behind it and they count the wait (the
// coordinated-omission correction of wrk2). A flow that fell behind sends at once, never skips.
class Pacer {
 public:
  explicit Pacer(const FlowArgs& a);
  // Waits until the next request is due (or the stop phase) and returns when it was due.
  uint64_t next();

 private:
  const FlowArgs& a_;
  double period_ns_ = 0;  // between this flow's requests
  uint64_t k_ = 0;
};

// Client flows (one thread each, in the client role) and the responder, under the controller.
class SocketLoad : public Load {
 public:
  SocketLoad(const WorkloadContext& ctx, const WorkloadInfo& info, const WorkloadOptions& opt, FlowFn fn);
  ~SocketLoad() override { stop(); }

  void start(Phases& ph) override;
  uint64_t progress() const override;
  std::string error() const override;
  void refresh() override {
    if (resp_) resp_->sync();
  }
  void window_start() override { snap(w0_); }
  void window_end() override { snap(w1_); }
  void stall_server() override {
    if (resp_) resp_->stall();
  }
  void stop() override;
  nlohmann::json state() const override;

  WorkloadResult finish(const Window& win, const std::string& failure) const;

 private:
  struct Snap {
    uint64_t tx = 0, bytes = 0, packets = 0, lost = 0, srv_bytes = 0, srv_packets = 0;
    uint64_t t_ns = 0, behind_ns = 0;  // open loop: how far behind schedule the furthest flow was
  };
  void snap(Snap& s);
  nlohmann::json open_loop_json(double secs, uint64_t tx) const;
  const WorkloadContext& ctx_;
  const WorkloadInfo& info_;
  const WorkloadOptions& opt_;
  FlowFn fn_;
  Phases* ph_ = nullptr;
  std::unique_ptr<ServerSide> resp_;
  std::vector<std::unique_ptr<FlowStats>> flows_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
  uint64_t start_ns_ = 0;
  Snap w0_, w1_;
};

// A socket workload's descriptor, run by SocketLoad with `fn` as every flow's body.
WorkloadInfo socket_workload(std::string name, std::string desc, int order, Protocol proto, Pattern pattern,
                             uint32_t def, uint32_t min, uint32_t max, FlowFn fn);

// A flow's one long-lived TCP connection (stream, rr); -1 with the flow's error set on failure.
int connect_flow(const FlowArgs& a);
// The first connection's congestion control and buffers, for the record (crr flows).
void record_socket(int fd, FlowStats& st);

}  // namespace pb::workload

// SPDX-License-Identifier: Apache-2.0
// workloads/socket.cpp: the socket workloads (netperf/neper vocabulary).
//   tcp_stream  one-way bulk TCP, bytes counted at the receiver          -> throughput_bps
//   tcp_rr      request/response on long-lived connections, per-transaction RTT
//   tcp_crr     connect, request, response, close: connection rate, its latency, and the
//               connect latency alone (the first packet's cost through the path)
//   udp_rr      UDP request/response with sequence numbers; unanswered requests are loss
//   udp_pps     small datagrams as fast as the socket API allows, counted at the receiver
// tcp_rr and tcp_crr (and http_*, http.cpp) also run open loop with --rate-rps (socket_load.h Pacer).
// Every flow is one thread with blocking I/O (200 ms timeouts so the stop phase is seen): on a
// 2-core machine a handful of flows is the useful range, and a blocking ping-pong has the fewest
// syscalls per transaction, which is what a latency tool must have.
#include <fmt/core.h>
#include <linux/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <thread>

#include "common/clock.h"
#include "common/error.h"
#include "kernel/host.h"
#include "kernel/netns.h"
#include "measure/histogram.h"
#include "roles/roles.h"
#include "workloads/socket_load.h"

namespace pb::workload {
namespace {

// The sender's TCP_INFO (linux/tcp.h: glibc's struct lacks the newer fields): with BBR the
// pacing rate is the throughput (docs/noise.md), so it belongs next to the result.
nlohmann::json sender_tcp_info(int fd) {
  tcp_info ti{};
  socklen_t l = sizeof ti;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) != 0) return nullptr;
  return {{"snd_cwnd", ti.tcpi_snd_cwnd},         {"rtt_us", ti.tcpi_rtt},
          {"pacing_rate_Bps", ti.tcpi_pacing_rate}, {"delivery_rate_Bps", ti.tcpi_delivery_rate},
          {"segs_out", ti.tcpi_segs_out},          {"bytes_sent", ti.tcpi_bytes_sent},
          {"total_retrans", ti.tcpi_total_retrans}, {"snd_mss", ti.tcpi_snd_mss},
          {"rwnd_limited_us", ti.tcpi_rwnd_limited}, {"sndbuf_limited_us", ti.tcpi_sndbuf_limited},
          {"busy_time_us", ti.tcpi_busy_time}};
}

// The buffers the generator's socket got: with --tcp-buffer-bytes N the kernel reports 2N and
// autotuning is off; under autotuning, what it had at connect time.
void record_buffers(int fd, FlowStats& st) {
  socklen_t l = sizeof st.sndbuf;
  if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &st.sndbuf, &l) != 0) st.sndbuf = -1;
  l = sizeof st.rcvbuf;
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &st.rcvbuf, &l) != 0) st.rcvbuf = -1;
}

}  // namespace

void record_socket(int fd, FlowStats& st) {
  st.tcp_cc = congestion_control_of(fd);
  record_buffers(fd, st);
}

int connect_flow(const FlowArgs& a) {
  std::string err;
  int fd = tcp_connect(a.ctx.target, 1000, &err, a.opt.tcp_cc, a.opt.tcp_buffer_bytes);
  if (fd < 0) {
    a.st.error = err;
    return -1;
  }
  record_socket(fd, a.st);
  a.st.connections.fetch_add(1);
  set_timeouts(fd, 200);
  return fd;
}

Pacer::Pacer(const FlowArgs& a) : a_(a) {
  if (a.opt.rate_rps <= 0) return;
  period_ns_ = 1e9 * a.opt.flows / a.opt.rate_rps;
  // The default 50 us of timer slack would be every request's lateness, and counted in its latency.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
}

uint64_t Pacer::next() {
  if (period_ns_ == 0) return mono_ns();
  // Flow i's k-th request: start + (k * flows + i) / R, the flows interleaved over each period.
  const uint64_t due = a_.start_ns + static_cast<uint64_t>((static_cast<double>(k_) + static_cast<double>(a_.index) /
                                                            a_.opt.flows) * period_ns_);
  ++k_;
  a_.st.due_ns.store(due, std::memory_order_relaxed);
  for (uint64_t now = mono_ns(); now < due && !a_.ph.stopping(); now = mono_ns()) {
    // Absolute sleeps: no drift from the time spent computing each wait. In slices of at most 50 ms
    // so the stop phase is seen at low rates.
    const uint64_t until = std::min<uint64_t>(due, now + 50000000);
    timespec ts{static_cast<time_t>(until / 1000000000), static_cast<long>(until % 1000000000)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
  }
  const uint64_t now = mono_ns();
  if (now > due && a_.ph.measuring()) a_.st.max_send_lag_ns = std::max(a_.st.max_send_lag_ns, now - due);
  return due;
}

namespace {

void tcp_stream_flow(const FlowArgs& a) {
  int fd = connect_flow(a);
  if (fd < 0) return;
  std::vector<char> buf(a.opt.payload_bytes, 's');
  while (!a.ph.stopping()) {
    ssize_t w = send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
    if (w > 0) {
      a.st.bytes.fetch_add(static_cast<uint64_t>(w), std::memory_order_relaxed);
    } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
      if (!a.ph.stopping()) a.st.error = errno_msg("send", errno);
      break;
    }
  }
  a.st.tcp_info = sender_tcp_info(fd);
  close(fd);
}

void tcp_rr_flow(const FlowArgs& a) {
  int fd = connect_flow(a);
  if (fd < 0) return;
  std::string err;
  set_nodelay(fd);
  std::vector<char> req(a.opt.payload_bytes, 'q'), resp(a.opt.response_bytes);
  Pacer pace(a);
  while (!a.ph.stopping()) {
    const uint64_t t0 = pace.next();  // open loop: the latency counts from when it was due
    if (a.ph.stopping()) break;
    if (!workload::write_full(fd, req.data(), req.size(), a.ph, &err) ||
        !workload::read_full(fd, resp.data(), resp.size(), a.ph, &err)) {
      if (!a.ph.stopping()) a.st.error = err;
      break;
    }
    record_transaction(a.st, a.ph, t0, mono_ns());
  }
  close(fd);
}

void tcp_crr_flow(const FlowArgs& a) {
  std::string err;
  std::vector<char> req(a.opt.payload_bytes, 'q'), resp(a.opt.response_bytes);
  Pacer pace(a);
  while (!a.ph.stopping()) {
    // Open loop: the transaction's latency from when it was due; connect's from when it began
    // (the path's cost alone).
    const uint64_t due = pace.next();
    if (a.ph.stopping()) break;
    const uint64_t t0 = mono_ns();
    int fd = tcp_connect(a.ctx.target, 1000, &err, a.opt.tcp_cc, a.opt.tcp_buffer_bytes);
    if (fd < 0) {
      // One refused/timed-out connect is an error of the path; the watchdog and the proof see it.
      if (!a.ph.stopping()) a.st.error = err;
      break;
    }
    // connect() returns when the SYN-ACK came back: the first packet's round trip through the
    // path, where an interception's per-connection lookup (rules, set, map) is paid.
    const uint64_t t_conn = mono_ns();
    if (a.ph.measuring()) a.st.connect_hist.record(t_conn - t0);
    if (a.st.tcp_cc.empty()) record_socket(fd, a.st);
    a.st.connections.fetch_add(1, std::memory_order_relaxed);
    set_nodelay(fd);
    bool ok = workload::write_full(fd, req.data(), req.size(), a.ph, &err) &&
              workload::read_full(fd, resp.data(), resp.size(), a.ph, &err);
    close(fd);
    if (!ok) {
      if (!a.ph.stopping()) a.st.error = err;
      break;
    }
    record_transaction(a.st, a.ph, due, mono_ns());
  }
}

// A flow's connected UDP socket with receive/send timeouts; -1 with the flow's error set.
int udp_flow_socket(const FlowArgs& a, int timeout_ms) {
  std::string err;
  int fd = udp_connect(a.ctx.target, &err);
  if (fd < 0) {
    a.st.error = err;
    return -1;
  }
  set_timeouts(fd, timeout_ms);
  return fd;
}

void udp_rr_flow(const FlowArgs& a) {
  // A reply later than 100 ms is counted as lost (and the request is not retried).
  int fd = udp_flow_socket(a, 100);
  if (fd < 0) return;
  std::vector<char> req(a.opt.payload_bytes, 'q'), resp(std::max<uint32_t>(a.opt.response_bytes, 8) + 64);
  uint64_t seq = static_cast<uint64_t>(a.index) << 48;
  while (!a.ph.stopping()) {
    ++seq;
    std::memcpy(req.data(), &seq, 8);
    uint64_t t0 = mono_ns();
    if (send(fd, req.data(), req.size(), 0) < 0) {
      if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN) continue;
      // ECONNREFUSED: an ICMP port unreachable came back; keep going, count it as loss.
      if (errno == ECONNREFUSED) {
        a.st.lost.fetch_add(1);
        continue;
      }
      a.st.error = errno_msg("send udp", errno);
      break;
    }
    a.st.packets.fetch_add(1, std::memory_order_relaxed);
    bool answered = false;
    for (;;) {
      ssize_t r = recv(fd, resp.data(), resp.size(), 0);
      if (r >= 8) {
        uint64_t got;
        std::memcpy(&got, resp.data(), 8);
        if (got != seq) continue;  // a late reply to an earlier request
        answered = true;
        break;
      }
      if (r < 0 && errno == EINTR) continue;
      break;  // timeout or error
    }
    if (!answered) {
      a.st.lost.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    record_transaction(a.st, a.ph, t0, mono_ns());
  }
  close(fd);
}

void udp_pps_flow(const FlowArgs& a) {
  int fd = udp_flow_socket(a, 200);
  if (fd < 0) return;
  constexpr unsigned kBatch = 32;
  std::vector<char> payload(a.opt.payload_bytes, 'p');
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  std::memset(msgs, 0, sizeof msgs);
  for (unsigned i = 0; i < kBatch; ++i) {
    iov[i] = {payload.data(), payload.size()};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  // Optional pacing: a per-flow token bucket checked per batch.
  const double rate = a.opt.rate_pps ? static_cast<double>(a.opt.rate_pps) / a.opt.flows : 0;
  const uint64_t start = mono_ns();
  uint64_t sent = 0;
  while (!a.ph.stopping()) {
    unsigned batch = kBatch;
    if (rate > 0) {
      double allowed = static_cast<double>(mono_ns() - start) / 1e9 * rate - static_cast<double>(sent);
      if (allowed < 1) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        continue;
      }
      batch = static_cast<unsigned>(std::min<double>(allowed, kBatch));
    }
    int n = sendmmsg(fd, msgs, batch, 0);
    if (n > 0) {
      sent += static_cast<uint64_t>(n);
      a.st.packets.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR && errno != ENOBUFS && errno != ECONNREFUSED) {
      a.st.error = errno_msg("sendmmsg", errno);
      break;
    }
  }
  close(fd);
}

}  // namespace

SocketLoad::SocketLoad(const WorkloadContext& ctx, const WorkloadInfo& info, const WorkloadOptions& opt, FlowFn fn)
    : ctx_(ctx), info_(info), opt_(opt), fn_(fn) {
  for (unsigned i = 0; i < opt.flows; ++i) {
    flows_.push_back(std::make_unique<FlowStats>());
    flows_.back()->routes_window.assign(opt.http_routes.size(), 0);
    flows_.back()->routes_all.assign(opt.http_routes.size(), 0);
  }
}

void SocketLoad::start(Phases& ph) {
  ph_ = &ph;
  if (ctx_.server_side) resp_ = ctx_.server_side(info_, opt_, ctx_.server_bind, ph);
  else resp_ = std::make_unique<Responder>(ctx_.roles.server().netns, info_, opt_, ctx_.server_bind, ph);
  // The open-loop schedule starts once the responder listens; the flows' connects are then the
  // first requests' lateness, in the warm-up.
  start_ns_ = mono_ns();
  for (unsigned i = 0; i < flows_.size(); ++i)
    threads_.emplace_back([this, i] {
      FlowStats& st = *flows_[i];
      try {
        ScopedNetns in(ctx_.roles.client().netns);
        pin_thread(opt_.client_cpu);
        fn_(FlowArgs{ctx_, opt_, *ph_, i, st, start_ns_});
      } catch (const std::exception& e) {
        st.error = e.what();
      }
      st.exited = true;
    });
}

uint64_t SocketLoad::progress() const {
  uint64_t p = resp_ ? resp_->bytes_received() + resp_->packets_received() : 0;
  for (auto& f : flows_) p += f->transactions.load(std::memory_order_relaxed);
  return p;
}

std::string SocketLoad::error() const {
  // Flows write their error before they exit; read it only from exited flows (no race).
  for (auto& f : flows_)
    if (f->exited.load() && !f->error.empty()) return "flow error: " + f->error;
  if (resp_ && !resp_->error().empty()) return "responder: " + resp_->error();
  return {};
}

void SocketLoad::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& t : threads_) t.join();
  // Let datagrams in flight land before the responder's totals are read.
  if (info_.protocol == Protocol::kUdp && resp_) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (resp_) resp_->stop();
}

nlohmann::json SocketLoad::state() const {
  nlohmann::json s = nlohmann::json::object();
  if (!flows_.empty() && !flows_[0]->tcp_cc.empty()) s["tcp_cc"] = flows_[0]->tcp_cc;
  if (!flows_.empty() && flows_[0]->sndbuf >= 0)
    s["tcp_buffers"] = {{"sndbuf", flows_[0]->sndbuf}, {"rcvbuf", flows_[0]->rcvbuf},
                        {"autotuning", opt_.tcp_buffer_bytes == 0}};
  if (!flows_.empty() && !flows_[0]->tcp_info.is_null()) s["tcp_info"] = flows_[0]->tcp_info;
  if (resp_)
    if (auto d = resp_->describe(); !d.is_null()) s["responder"] = d;
  return s;
}

void SocketLoad::snap(Snap& s) {
  s = Snap{};
  resp_->sync();
  s.t_ns = mono_ns();
  for (auto& f : flows_) {
    s.tx += f->transactions.load();
    s.bytes += f->bytes.load();
    s.packets += f->packets.load();
    s.lost += f->lost.load();
    const uint64_t due = f->due_ns.load(std::memory_order_relaxed);
    if (due && s.t_ns > due) s.behind_ns = std::max(s.behind_ns, s.t_ns - due);
  }
  s.srv_bytes = resp_->bytes_received();
  s.srv_packets = resp_->packets_received();
}

// Asked for against achieved, and whether the path kept up: a lower rate is never reported as
// if it had been asked for. Behind by more than 5 % of the window is as many requests owed as the
// 5 % of rate the first test allows.
nlohmann::json SocketLoad::open_loop_json(double secs, uint64_t tx) const {
  const double intended = opt_.rate_rps, achieved = static_cast<double>(tx) / secs;
  uint64_t max_lag = 0;
  for (auto& f : flows_) max_lag = std::max(max_lag, f->max_send_lag_ns);
  const double behind_s = static_cast<double>(w1_.behind_ns) / 1e9;
  std::string why;
  if (achieved < 0.95 * intended)
    why = fmt::format("achieved {:.0f} requests/s, below 95 % of the intended {:.0f}", achieved, intended);
  else if (behind_s > 0.05 * secs)
    why = fmt::format("at the window's end the schedule was {:.1f} ms behind (more than 5 % of the window)",
                      behind_s * 1e3);
  return {{"intended_rate_rps", intended},
          {"achieved_rate_rps", achieved},
          {"kept_up", why.empty()},
          {"reason", why.empty() ? nlohmann::json(nullptr) : nlohmann::json(why)},
          {"behind_at_end_ns", w1_.behind_ns},
          {"max_send_lag_ns", max_lag},
          {"latency_from", "intended send time"}};
}

WorkloadResult SocketLoad::finish(const Window& win, const std::string& failure) const {
  WorkloadResult r;
  for (auto& f : flows_) {
    r.totals.transactions += f->transactions.load();
    r.totals.connections += f->connections.load();
    r.totals.packets_sent += f->packets.load();
    if (info_.pattern == Pattern::kStream) r.totals.bytes_sent += f->bytes.load();
  }
  r.totals.packets_received = resp_ ? resp_->packets_received() : 0;
  if (info_.application == Application::kHttp) {
    r.totals.http_route_requests.assign(opt_.http_routes.size(), 0);
    for (auto& f : flows_)
      for (size_t i = 0; i < opt_.http_routes.size(); ++i) r.totals.http_route_requests[i] += f->routes_all[i];
  }
  if (!failure.empty()) {
    r.ok = false;
    r.reason = failure;
    return r;
  }
  const double secs = win.seconds();
  const uint64_t tx = w1_.tx - w0_.tx, sent_pk = w1_.packets - w0_.packets, lost = w1_.lost - w0_.lost;
  nlohmann::json m;
  m["duration_ns"] = win.end_ns - win.start_ns;
  m["cpu"] = win.cpu.to_json();
  m["system_state"] = win.system_state;
  if (!win.kernel_profile.is_null()) m["kernel_profile"] = win.kernel_profile;
  const double busy = static_cast<double>(win.cpu.busy_ns);
  switch (info_.pattern) {
    case Pattern::kStream: {
      uint64_t rx = w1_.srv_bytes - w0_.srv_bytes;
      m["bytes"] = rx;
      m["throughput_bps"] = static_cast<double>(rx) * 8.0 / secs;
      if (rx) m["cpu_ns_per_byte"] = busy / static_cast<double>(rx);
      break;
    }
    case Pattern::kPps: {
      uint64_t rx = w1_.srv_packets - w0_.srv_packets;
      m["packets_per_s"] = static_cast<double>(rx) / secs;
      m["throughput_bps"] = static_cast<double>(rx) * opt_.payload_bytes * 8.0 / secs;
      m["udp_sent"] = r.totals.packets_sent;
      m["udp_received"] = r.totals.packets_received;
      if (r.totals.packets_sent)
        m["udp_loss_ratio"] = 1.0 - std::min(1.0, static_cast<double>(r.totals.packets_received) /
                                                     static_cast<double>(r.totals.packets_sent));
      m["sent_packets_per_s"] = static_cast<double>(sent_pk) / secs;
      if (rx) m["cpu_ns_per_packet"] = busy / static_cast<double>(rx);
      break;
    }
    case Pattern::kRr:
    case Pattern::kCrr: {
      Histogram h, ch;
      for (auto& f : flows_) {
        h.merge(f->hist);
        ch.merge(f->connect_hist);
      }
      m["transactions"] = tx;
      m["transactions_per_s"] = static_cast<double>(tx) / secs;
      m["latency_ns"] = h.summary_json();
      m["samples"] = h.count();
      m["histogram"] = h.to_json();
      if (info_.pattern == Pattern::kCrr) {
        m["connect_latency_ns"] = ch.summary_json();
        m["connect_histogram"] = ch.to_json();
      }
      if (tx) m["cpu_ns_per_transaction"] = busy / static_cast<double>(tx);
      if (info_.application == Application::kHttp) {
        nlohmann::json win_routes = nlohmann::json::object(), all_routes = nlohmann::json::object();
        for (size_t i = 0; i < opt_.http_routes.size(); ++i) {
          uint64_t w = 0, a = 0;
          for (auto& f : flows_) {
            w += f->routes_window[i];
            a += f->routes_all[i];
          }
          win_routes[opt_.http_routes[i]] = w;
          all_routes[opt_.http_routes[i]] = a;
        }
        m["http"] = {{"routes", win_routes}, {"routes_whole_run", all_routes}};
      }
      if (opt_.rate_rps > 0) m["open_loop"] = open_loop_json(secs, tx);
      if (info_.protocol == Protocol::kUdp) {
        m["udp_sent"] = r.totals.packets_sent;
        m["udp_received"] = r.totals.packets_received;
        uint64_t asked = tx + lost;
        m["udp_lost"] = lost;
        m["udp_loss_ratio"] = asked ? static_cast<double>(lost) / static_cast<double>(asked) : 0.0;
      }
      if (tx == 0) {
        r.ok = false;
        r.reason = "no transaction completed in the measured window";
        r.metrics = m;
        return r;
      }
      break;
    }
  }
  if (info_.protocol == Protocol::kTcp) m["tcp_retransmits"] = win.tcp_retransmits;
  r.ok = true;
  r.metrics = std::move(m);
  return r;
}

WorkloadInfo socket_workload(std::string name, std::string desc, int order, Protocol proto, Pattern pattern,
                             uint32_t def, uint32_t min, uint32_t max, FlowFn fn) {
  WorkloadInfo w;
  w.name = std::move(name);
  w.description = std::move(desc);
  w.order = order;
  w.protocol = proto;
  w.transport = Transport::kSocket;
  w.pattern = pattern;
  w.primary_metric = pattern == Pattern::kStream ? "throughput_bps"
                     : pattern == Pattern::kPps  ? "packets_per_s"
                                                 : "transactions_per_s";
  w.cpu_metric = pattern == Pattern::kStream ? "cpu_ns_per_byte"
                 : pattern == Pattern::kPps  ? "cpu_ns_per_packet"
                                             : "cpu_ns_per_transaction";
  w.default_payload = def;
  w.min_payload = min;
  w.max_payload = max;
  w.unsupported = [] { return std::optional<std::string>(); };
  w.run = [fn](const WorkloadContext& ctx, const WorkloadOptions& opt) {
    SocketLoad load(ctx, ctx.workload, opt, fn);
    Window win;
    std::string failure = drive(ctx, opt, ctx.workload, load, win);
    return load.finish(win, failure);
  };
  return w;
}

PB_REGISTER_WORKLOAD([] {
  return socket_workload("tcp_stream", "one TCP flow per --flows, bulk send; Gbit/s at the receiver", 10,
                         Protocol::kTcp, Pattern::kStream, 131072, 1, 16 << 20, tcp_stream_flow);
});
PB_REGISTER_WORKLOAD([] {
  WorkloadInfo w = socket_workload("tcp_rr", "TCP request/response on open connections; transactions/s, RTT", 20,
                                   Protocol::kTcp, Pattern::kRr, 64, 1, 1 << 20, tcp_rr_flow);
  w.open_loop = true;
  return w;
});
PB_REGISTER_WORKLOAD([] {
  WorkloadInfo w = socket_workload("tcp_crr",
                                   "TCP connect, request, response, close; connections/s, latency, connect latency", 30,
                                   Protocol::kTcp, Pattern::kCrr, 64, 1, 1 << 20, tcp_crr_flow);
  w.open_loop = true;
  return w;
});
PB_REGISTER_WORKLOAD([] {
  WorkloadInfo w = socket_workload("udp_rr", "UDP request/response; transactions/s, RTT, loss", 40, Protocol::kUdp,
                                   Pattern::kRr, 64, 8, 65507, udp_rr_flow);
  w.min_payload_why = "requests and responses carry an 8-byte sequence number";
  return w;
});
PB_REGISTER_WORKLOAD([] {
  return socket_workload("udp_pps", "small UDP datagrams from sockets (sendmmsg); packets/s received, loss", 50,
                         Protocol::kUdp, Pattern::kPps, 18, 1, 1472, udp_pps_flow);
});

}  // namespace pb::workload

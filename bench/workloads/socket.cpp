// workloads/socket.cpp: the socket workloads (netperf/neper vocabulary).
//   tcp_stream  one-way bulk TCP, bytes counted at the receiver          -> throughput_bps
//   tcp_rr      request/response on long-lived connections, per-transaction RTT
//   tcp_crr     connect, request, response, close: connection rate and its latency
//   udp_rr      UDP request/response with sequence numbers; unanswered requests are loss
//   udp_pps     small datagrams as fast as the socket API allows, counted at the receiver
// Every flow is one thread with blocking I/O (200 ms timeouts so the stop flag is seen): on a
// 2-core machine a handful of flows is the useful range, and a blocking ping-pong has the fewest
// syscalls per transaction, which is what a latency tool must have.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "core/error.h"
#include "core/topology.h"
#include "core/util.h"
#include "workloads/engine.h"

namespace pb {
namespace {

using engine::FlowStats;
using engine::record_transaction;
using engine::Shared;

WorkloadResult finish(const WorkloadOptions& opt, Shared&, engine::Window& win,
                      std::vector<std::unique_ptr<FlowStats>>& flows, engine::Responder& resp,
                      const std::string& failure) {
  WorkloadResult r;
  const WorkloadInfo* info = find_workload(opt.name);
  for (auto& f : flows) {
    r.totals.transactions += f->transactions.load();
    r.totals.connections += f->connections.load();
    r.totals.packets_sent += f->packets.load();
    if (opt.name == "tcp_stream") r.totals.bytes_sent += f->bytes.load();
  }
  r.totals.packets_received = resp.packets_received();
  if (!failure.empty()) {
    r.ok = false;
    r.reason = failure;
    return r;
  }
  const double secs = static_cast<double>(win.end_ns - win.start_ns) / 1e9;
  uint64_t tx = 0, sent_pk = 0, lost = 0, bytes_sent = 0;
  for (size_t i = 0; i < flows.size(); ++i) {
    tx += win.tx1[i] - win.tx0[i];
    sent_pk += win.pk1[i] - win.pk0[i];
    lost += win.lo1[i] - win.lo0[i];
    bytes_sent += win.by1[i] - win.by0[i];
  }
  Histogram h;
  for (auto& f : flows) h.merge(f->hist);
  nlohmann::json m;
  m["duration_ns"] = win.end_ns - win.start_ns;
  m["cpu"] = win.cpu.to_json();
  const double busy = static_cast<double>(win.cpu.busy_ns);
  if (opt.name == "tcp_stream") {
    uint64_t rx = win.srv_bytes1 - win.srv_bytes0;
    m["bytes"] = rx;
    m["throughput_bps"] = static_cast<double>(rx) * 8.0 / secs;
    if (rx) m["cpu_ns_per_byte"] = busy / static_cast<double>(rx);
  } else if (opt.name == "udp_pps") {
    uint64_t rx = win.srv_packets1 - win.srv_packets0;
    m["packets_per_s"] = static_cast<double>(rx) / secs;
    m["throughput_bps"] = static_cast<double>(rx) * opt.payload_bytes * 8.0 / secs;
    m["udp_sent"] = r.totals.packets_sent;
    m["udp_received"] = r.totals.packets_received;
    if (r.totals.packets_sent)
      m["udp_loss_ratio"] = 1.0 - std::min(1.0, static_cast<double>(r.totals.packets_received) /
                                                   static_cast<double>(r.totals.packets_sent));
    m["sent_packets_per_s"] = static_cast<double>(sent_pk) / secs;
    if (rx) m["cpu_ns_per_packet"] = busy / static_cast<double>(rx);
  } else {
    m["transactions"] = tx;
    m["transactions_per_s"] = static_cast<double>(tx) / secs;
    m["latency_ns"] = h.summary_json();
    m["samples"] = h.count();
    m["histogram"] = h.to_json();
    if (tx) m["cpu_ns_per_transaction"] = busy / static_cast<double>(tx);
    if (opt.name == "udp_rr") {
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
  }
  if (info->tcp) m["tcp_retransmits"] = win.retrans1 - win.retrans0;
  r.ok = true;
  r.metrics = std::move(m);
  return r;
}

using Body = std::function<void(const WorkloadContext&, const WorkloadOptions&, Shared&, unsigned,
                                FlowStats&)>;

WorkloadResult run_socket(const WorkloadContext& ctx, const WorkloadOptions& opt, const Body& body) {
  Shared sh;
  sh.opt = &opt;
  engine::Responder resp(ctx.topo.srv(), opt, ctx.server_bind, sh);
  std::vector<std::unique_ptr<FlowStats>> flows;
  for (unsigned i = 0; i < opt.flows; ++i) flows.push_back(std::make_unique<FlowStats>());
  engine::Window win;
  std::string failure = engine::drive(
      ctx, opt, sh, flows, resp,
      [&](unsigned i, FlowStats& st) { body(ctx, opt, sh, i, st); }, win);
  if (failure.empty())
    for (auto& f : flows)
      if (!f->error.empty()) failure = "flow error: " + f->error;
  return finish(opt, sh, win, flows, resp, failure);
}

void tcp_stream_flow(const WorkloadContext& ctx, const WorkloadOptions& opt, Shared& sh, unsigned,
                     FlowStats& st) {
  std::string err;
  int fd = engine::tcp_connect(ctx.target, 1000, &err);
  if (fd < 0) {
    st.error = err;
    return;
  }
  st.connections.fetch_add(1);
  engine::set_timeouts(fd, 200);
  std::vector<char> buf(opt.payload_bytes, 's');
  while (!sh.stopping()) {
    ssize_t w = send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
    if (w > 0) {
      st.bytes.fetch_add(static_cast<uint64_t>(w), std::memory_order_relaxed);
    } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
      if (!sh.stopping()) st.error = errno_msg("send", errno);
      break;
    }
  }
  close(fd);
}

void tcp_rr_flow(const WorkloadContext& ctx, const WorkloadOptions& opt, Shared& sh, unsigned,
                 FlowStats& st) {
  std::string err;
  int fd = engine::tcp_connect(ctx.target, 1000, &err);
  if (fd < 0) {
    st.error = err;
    return;
  }
  st.connections.fetch_add(1);
  engine::set_timeouts(fd, 200);
  engine::set_nodelay(fd);
  std::vector<char> req(opt.payload_bytes, 'q'), resp(opt.response_bytes);
  while (!sh.stopping()) {
    uint64_t t0 = mono_ns();
    if (!engine::write_full(fd, req.data(), req.size(), sh, &err) ||
        !engine::read_full(fd, resp.data(), resp.size(), sh, &err)) {
      if (!sh.stopping()) st.error = err;
      break;
    }
    record_transaction(st, sh, t0, mono_ns());
  }
  close(fd);
}

void tcp_crr_flow(const WorkloadContext& ctx, const WorkloadOptions& opt, Shared& sh, unsigned,
                  FlowStats& st) {
  std::string err;
  std::vector<char> req(opt.payload_bytes, 'q'), resp(opt.response_bytes);
  while (!sh.stopping()) {
    uint64_t t0 = mono_ns();
    int fd = engine::tcp_connect(ctx.target, 1000, &err);
    if (fd < 0) {
      // One refused/timed-out connect is an error of the path; the watchdog and the proof see it.
      st.errors.fetch_add(1);
      if (!sh.stopping()) st.error = err;
      break;
    }
    st.connections.fetch_add(1, std::memory_order_relaxed);
    engine::set_nodelay(fd);
    bool ok = engine::write_full(fd, req.data(), req.size(), sh, &err) &&
              engine::read_full(fd, resp.data(), resp.size(), sh, &err);
    close(fd);
    if (!ok) {
      if (!sh.stopping()) st.error = err;
      break;
    }
    record_transaction(st, sh, t0, mono_ns());
  }
}

int udp_client_socket(const Endpoint& target, std::string* err) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = errno_msg("socket", errno);
    return -1;
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(target.port);
  inet_pton(AF_INET, target.ip.c_str(), &sa.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    *err = errno_msg("connect udp", errno);
    close(fd);
    return -1;
  }
  return fd;
}

void udp_rr_flow(const WorkloadContext& ctx, const WorkloadOptions& opt, Shared& sh, unsigned flow,
                 FlowStats& st) {
  std::string err;
  int fd = udp_client_socket(ctx.target, &err);
  if (fd < 0) {
    st.error = err;
    return;
  }
  // A reply later than this is counted as lost (and the request is not retried).
  engine::set_timeouts(fd, 100);
  std::vector<char> req(opt.payload_bytes, 'q'), resp(std::max<uint32_t>(opt.response_bytes, 8) + 64);
  uint64_t seq = static_cast<uint64_t>(flow) << 48;
  while (!sh.stopping()) {
    ++seq;
    std::memcpy(req.data(), &seq, 8);
    uint64_t t0 = mono_ns();
    if (send(fd, req.data(), req.size(), 0) < 0) {
      if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN) continue;
      // ECONNREFUSED: an ICMP port unreachable came back; keep going, count it as loss.
      if (errno == ECONNREFUSED) {
        st.lost.fetch_add(1);
        continue;
      }
      st.error = errno_msg("send udp", errno);
      break;
    }
    st.packets.fetch_add(1, std::memory_order_relaxed);
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
      st.lost.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    record_transaction(st, sh, t0, mono_ns());
  }
  close(fd);
}

void udp_pps_flow(const WorkloadContext& ctx, const WorkloadOptions& opt, Shared& sh, unsigned,
                  FlowStats& st) {
  std::string err;
  int fd = udp_client_socket(ctx.target, &err);
  if (fd < 0) {
    st.error = err;
    return;
  }
  engine::set_timeouts(fd, 200);
  constexpr unsigned kBatch = 32;
  std::vector<char> payload(opt.payload_bytes, 'p');
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  std::memset(msgs, 0, sizeof msgs);
  for (unsigned i = 0; i < kBatch; ++i) {
    iov[i] = {payload.data(), payload.size()};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  // Optional pacing: a per-flow token bucket checked per batch.
  const double rate = opt.rate_pps ? static_cast<double>(opt.rate_pps) / opt.flows : 0;
  const uint64_t start = mono_ns();
  uint64_t sent = 0;
  while (!sh.stopping()) {
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
      st.packets.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR && errno != ENOBUFS &&
               errno != ECONNREFUSED) {
      st.error = errno_msg("sendmmsg", errno);
      break;
    }
  }
  close(fd);
}

}  // namespace

void add_socket_workloads(std::vector<WorkloadInfo>& v) {
  auto make = [](std::string name, std::string desc, bool tcp, uint32_t def, uint32_t max, Body body) {
    WorkloadInfo w;
    w.name = std::move(name);
    w.description = std::move(desc);
    w.tcp = tcp;
    w.default_payload = def;
    w.max_payload = max;
    w.unsupported = [] { return std::optional<std::string>(); };
    w.run = [body](const WorkloadContext& c, const WorkloadOptions& o) { return run_socket(c, o, body); };
    return w;
  };
  v.push_back(make("tcp_stream", "one TCP flow per --flows, bulk send; Gbit/s at the receiver",
                   true, 131072, 16 << 20, tcp_stream_flow));
  v.push_back(make("tcp_rr", "TCP request/response on open connections; transactions/s, RTT",
                   true, 64, 1 << 20, tcp_rr_flow));
  v.push_back(make("tcp_crr", "TCP connect, request, response, close; connections/s, latency",
                   true, 64, 1 << 20, tcp_crr_flow));
  v.push_back(make("udp_rr", "UDP request/response; transactions/s, RTT, loss",
                   false, 64, 65507, udp_rr_flow));
  v.push_back(make("udp_pps", "small UDP datagrams from sockets (sendmmsg); packets/s received, loss",
                   false, 18, 1472, udp_pps_flow));
}

}  // namespace pb

// SPDX-License-Identifier: Apache-2.0
#include "proof/probe.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "common/log.h"
#include "kernel/netns.h"
#include "kernel/sockets.h"
#include "paths/path.h"
#include "proof/capture.h"
#include "roles/roles.h"

namespace pb {

namespace {
constexpr int kUdp = 20, kTcp = 5;
std::string ports_filter(uint16_t udp_port, uint16_t tcp_port) {
  return "(udp port " + std::to_string(udp_port) + " or tcp port " + std::to_string(tcp_port) + ")";
}
}  // namespace

struct ProbeServer::Impl {
  std::atomic<bool> stop{false};
  int usock = -1, tsock = -1;
  std::thread srv;
  std::unique_ptr<Capture> cap;
  bool stopped = false;
};

ProbeServer::ProbeServer(const Roles& roles, uint16_t udp_port, uint16_t tcp_port) : impl_(new Impl) {
  const Wiring& w = roles.wiring();
  Impl& m = *impl_;
  try {
    {
      ScopedNetns in(roles.server().netns);
      m.usock = udp_bind({"0.0.0.0", udp_port});
      m.tsock = tcp_listen({"0.0.0.0", tcp_port});
    }
    // Echo responders, bounded by a stop flag.
    m.srv = std::thread([&m] {
      char buf[2048];
      while (!m.stop) {
        sockaddr_in peer{};
        socklen_t pl = sizeof peer;
        ssize_t n = recvfrom(m.usock, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&peer), &pl);
        if (n > 0) sendto(m.usock, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&peer), pl);
        int c = accept4(m.tsock, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          set_timeouts(c, 500);
          ssize_t r = recv(c, buf, 16, MSG_WAITALL);
          if (r > 0) send(c, buf, static_cast<size_t>(r), MSG_NOSIGNAL);
          close(c);
        }
        if (n <= 0 && c < 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
    m.cap = std::make_unique<Capture>(roles.server().netns, w.server_dev,
                                      "ip dst host " + w.server_ip + " and " + ports_filter(udp_port, tcp_port));
  } catch (...) {
    stop();
    delete impl_;
    throw;
  }
}

CaptureSummary ProbeServer::stop() {
  Impl& m = *impl_;
  CaptureSummary s;
  if (m.stopped) return s;
  m.stopped = true;
  if (m.cap) s = m.cap->stop();
  m.stop = true;
  if (m.srv.joinable()) m.srv.join();
  if (m.usock >= 0) close(m.usock);
  if (m.tsock >= 0) close(m.tsock);
  return s;
}

ProbeServer::~ProbeServer() {
  stop();
  delete impl_;
}

ProbeClientResult probe_client(const Roles& roles, const Endpoint& ut, const Endpoint& tt) {
  const Wiring& w = roles.wiring();
  ProbeClientResult res;
  Capture at_cli(roles.client().netns, w.client_dev,
                 "ip src host " + w.client_ip + " and " + ports_filter(ut.port, tt.port));
  run_in_netns(roles.client().netns, [&] {
    std::string err;
    int fd = udp_connect(ut, &err);
    if (fd < 0) {
      res.error = err;
      return;
    }
    set_timeouts(fd, 300);
    for (int i = 0; i < kUdp; ++i) {
      char msg[16];
      std::snprintf(msg, sizeof msg, "probe-%08d", i);
      send(fd, msg, sizeof msg, 0);
      char got[64];
      ssize_t r = recv(fd, got, sizeof got, 0);
      if (r == static_cast<ssize_t>(sizeof msg) && std::memcmp(got, msg, sizeof msg) == 0) ++res.udp_ok;
    }
    close(fd);
    for (int i = 0; i < kTcp; ++i) {
      int c = tcp_connect(tt, 1000, &err);
      if (c < 0) {
        res.error = err;
        continue;
      }
      set_timeouts(c, 1000);
      char msg[16] = "tcp-probe-0000";
      char got[16];
      if (send(c, msg, 16, MSG_NOSIGNAL) == 16 && recv(c, got, 16, MSG_WAITALL) == 16 &&
          std::memcmp(got, msg, 16) == 0)
        ++res.tcp_ok;
      close(c);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  res.capture = at_cli.stop();
  return res;
}

nlohmann::json probe_verdict(const Wiring& w, const CaptureSummary& s, const ProbeClientResult& cr,
                             const std::string& want_src, bool routes) {
  nlohmann::json out;
  std::string reason;
  const CaptureSummary& c = cr.capture;
  const int udp_ok = cr.udp_ok, tcp_ok = cr.tcp_ok;
  const std::string& client_err = cr.error;
  const uint64_t from_expected = s.count_flow(want_src, w.server_ip);
  out["udp_answered"] = udp_ok;
  out["udp_sent"] = kUdp;
  out["tcp_completed"] = tcp_ok;
  out["tcp_attempted"] = kTcp;
  out["expected_server_src"] = want_src;
  out["expected_server_dst"] = w.server_ip;
  out["server_side"] = s;
  out["client_side"] = c;
  out["server_saw_from_expected_src"] = from_expected;
  out["routed"] = routes;
  if (udp_ok != kUdp) reason = fmt::format("only {}/{} UDP probes answered{}", udp_ok, kUdp,
                                           client_err.empty() ? "" : " (" + client_err + ")");
  else if (tcp_ok != kTcp)
    reason = fmt::format("only {}/{} TCP probe connections completed ({})", tcp_ok, kTcp, client_err);
  else if (c.packets < static_cast<uint64_t>(kUdp))
    reason = fmt::format("client-side capture saw {} packets, fewer than the {} sent", c.packets, kUdp);
  else if (from_expected < static_cast<uint64_t>(kUdp))
    reason = fmt::format("server saw {} packets from {} (expected >= {}); flows: {}", from_expected,
                         want_src, kUdp, nlohmann::json(s.flows).dump());
  else if (s.tcp_syn < static_cast<uint64_t>(kTcp))
    reason = fmt::format("server saw {} TCP SYNs, expected {}", s.tcp_syn, kTcp);
  else if (s.pcap_dropped)
    reason = fmt::format("capture dropped {} packets", s.pcap_dropped);
  else if (routes) {
    const uint64_t routed = s.with_ttl(63);
    if (routed != s.packets)
      reason = fmt::format("{} of {} packets at the server had TTL 63 (routed once); TTLs: {}",
                           routed, s.packets, out["server_side"]["ttl"].dump());
  }
  out["ok"] = reason.empty();
  if (!reason.empty()) out["reason"] = reason;
  return out;
}

void LocalProbe::server_start(uint16_t udp_port, uint16_t tcp_port) {
  server_.reset();
  server_ = std::make_unique<ProbeServer>(roles_, udp_port, tcp_port);
}

ProbeClientResult LocalProbe::client(const Endpoint& ut, const Endpoint& tt) { return probe_client(roles_, ut, tt); }

CaptureSummary LocalProbe::server_stop() {
  CaptureSummary s = server_ ? server_->stop() : CaptureSummary{};
  server_.reset();
  return s;
}

nlohmann::json pcap_probe(ProbeHalves& halves, const Wiring& w, const PathInstance& path, uint16_t udp_port,
                          uint16_t tcp_port) {
  try {
    const Endpoint ut = path.client_target(Protocol::kUdp, {w.server_ip, udp_port});
    const Endpoint tt = path.client_target(Protocol::kTcp, {w.server_ip, tcp_port});
    halves.server_start(udp_port, tcp_port);
    ProbeClientResult cr;
    try {
      cr = halves.client(ut, tt);
    } catch (...) {
      halves.server_stop();
      throw;
    }
    const CaptureSummary s = halves.server_stop();
    return probe_verdict(w, s, cr, path.expected_server_src(), path.routes());
  } catch (const std::exception& e) {
    return {{"ok", false}, {"reason", std::string("probe could not run: ") + e.what()}};
  }
}

}  // namespace pb

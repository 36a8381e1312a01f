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

nlohmann::json pcap_probe(const Roles& roles, const PathInstance& path, uint16_t udp_port, uint16_t tcp_port) {
  const Wiring& w = roles.wiring();
  constexpr int kUdp = 20, kTcp = 5;
  nlohmann::json out;
  std::string reason;
  const std::string ports = "(udp port " + std::to_string(udp_port) + " or tcp port " +
                            std::to_string(tcp_port) + ")";
  try {
    // Server side: echo responders, bounded by a stop flag.
    std::atomic<bool> stop{false};
    int usock = -1, tsock = -1;
    {
      ScopedNetns in(roles.server().netns);
      usock = udp_bind({"0.0.0.0", udp_port});
      tsock = tcp_listen({"0.0.0.0", tcp_port});
    }
    std::thread srv([&] {
      char buf[2048];
      while (!stop) {
        sockaddr_in peer{};
        socklen_t pl = sizeof peer;
        ssize_t n = recvfrom(usock, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&peer), &pl);
        if (n > 0) sendto(usock, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&peer), pl);
        int c = accept4(tsock, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          set_timeouts(c, 500);
          ssize_t r = recv(c, buf, 16, MSG_WAITALL);
          if (r > 0) send(c, buf, static_cast<size_t>(r), MSG_NOSIGNAL);
          close(c);
        }
        if (n <= 0 && c < 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
    Capture at_srv(roles.server().netns, w.server_dev, "ip dst host " + w.server_ip + " and " + ports);
    Capture at_cli(roles.client().netns, w.client_dev, "ip src host " + w.client_ip + " and " + ports);

    WorkloadOptions uo, to;
    uo.name = "udp_rr";
    to.name = "tcp_rr";
    Endpoint ut = path.client_target(uo, {w.server_ip, udp_port});
    Endpoint tt = path.client_target(to, {w.server_ip, tcp_port});
    int udp_ok = 0, tcp_ok = 0;
    std::string client_err;
    run_in_netns(roles.client().netns, [&] {
      std::string err;
      int fd = udp_connect(ut, &err);
      if (fd < 0) {
        client_err = err;
        return;
      }
      set_timeouts(fd, 300);
      for (int i = 0; i < kUdp; ++i) {
        char msg[16];
        std::snprintf(msg, sizeof msg, "probe-%08d", i);
        send(fd, msg, sizeof msg, 0);
        char got[64];
        ssize_t r = recv(fd, got, sizeof got, 0);
        if (r == static_cast<ssize_t>(sizeof msg) && std::memcmp(got, msg, sizeof msg) == 0) ++udp_ok;
      }
      close(fd);
      for (int i = 0; i < kTcp; ++i) {
        int c = tcp_connect(tt, 1000, &err);
        if (c < 0) {
          client_err = err;
          continue;
        }
        set_timeouts(c, 1000);
        char msg[16] = "tcp-probe-0000";
        char got[16];
        if (send(c, msg, 16, MSG_NOSIGNAL) == 16 && recv(c, got, 16, MSG_WAITALL) == 16 &&
            std::memcmp(got, msg, 16) == 0)
          ++tcp_ok;
        close(c);
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    CaptureSummary s = at_srv.stop();
    CaptureSummary c = at_cli.stop();
    stop = true;
    srv.join();
    close(usock);
    close(tsock);

    const std::string want_src = path.expected_server_src();
    uint64_t from_expected = s.count_flow(want_src, w.server_ip);
    out["udp_answered"] = udp_ok;
    out["udp_sent"] = kUdp;
    out["tcp_completed"] = tcp_ok;
    out["tcp_attempted"] = kTcp;
    out["expected_server_src"] = want_src;
    out["expected_server_dst"] = w.server_ip;
    out["server_side"] = s.to_json();
    out["client_side"] = c.to_json();
    out["server_saw_from_expected_src"] = from_expected;
    out["routed"] = path.routes();
    if (udp_ok != kUdp) reason = fmt::format("only {}/{} UDP probes answered{}", udp_ok, kUdp,
                                             client_err.empty() ? "" : " (" + client_err + ")");
    else if (tcp_ok != kTcp)
      reason = fmt::format("only {}/{} TCP probe connections completed ({})", tcp_ok, kTcp, client_err);
    else if (c.packets < static_cast<uint64_t>(kUdp))
      reason = fmt::format("client-side capture saw {} packets, fewer than the {} sent", c.packets, kUdp);
    else if (from_expected < static_cast<uint64_t>(kUdp))
      reason = fmt::format("server saw {} packets from {} (expected >= {}); flows: {}", from_expected,
                           want_src, kUdp, nlohmann::json(s.flows).dump());
    else if (s.syn < static_cast<uint64_t>(kTcp))
      reason = fmt::format("server saw {} TCP SYNs, expected {}", s.syn, kTcp);
    else if (s.pcap_dropped)
      reason = fmt::format("capture dropped {} packets", s.pcap_dropped);
    else if (path.routes()) {
      uint64_t routed = s.ttls.count(63) ? s.ttls.at(63) : 0;
      if (routed != s.packets)
        reason = fmt::format("{} of {} packets at the server had TTL 63 (routed once); TTLs: {}",
                             routed, s.packets, out["server_side"]["ttl"].dump());
    }
  } catch (const std::exception& e) {
    reason = std::string("probe could not run: ") + e.what();
  }
  out["ok"] = reason.empty();
  if (!reason.empty()) out["reason"] = reason;
  return out;
}

}  // namespace pb

// SPDX-License-Identifier: Apache-2.0
// paths/gateway.h: an L7 gateway in place of pathbench's L4 proxy behind an interception
// (--gateway haproxy): the setting the seed's API-traffic claims are about. Cilium puts its Envoy
// behind iptables TPROXY (tproxy-ipt) or bpf_sk_assign (tc-sk-assign) exactly like this; Debian
// has no Envoy, so HAProxy (HTTP mode, Debian's binary) stands in, with the same configuration
// behind every interception and behind a plain address (proxy-plain: the gateway's own cost).
//
//   interception ──▶ listening socket pathbench made (IP_TRANSPARENT, in the DUT) ──fd@N──▶ HAProxy
//                                                                                            │ HTTP: backend l7 (mode http)
//                                                                                            │ else: backend l4 (mode tcp)
//                                                                                            ▼
//                                                 original destination (server 0.0.0.0:0) or, plain, the server
//
// Why pathbench makes the listening sockets and hands them over (`bind fd@N`, HAProxy's own
// mechanism for inherited sockets): the BPF steerers put the listener into their SOCKMAP, which
// needs an fd in this process; so every path gets its listener the same way, with the run's
// --tcp-cc and --tcp-buffer-bytes set before listen() as on our proxy's.
//
// Why the frontend is `mode tcp` with `use_backend l7 if HTTP`: it is the shape of a sidecar's
// inbound listener (Envoy's http_inspector picks the HTTP or the TCP filter chain), and it lets
// the proof probe's raw TCP exchange through as L4 while every HTTP request goes through the
// HTTP engine. Only the first bytes of a connection are inspected.
//
// The proof: HAProxy's own counters (stats socket, `show stat`) against the generator's.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "paths/path.h"

namespace pb {

class ChildProcess;

// The gateway's counters (cumulative since it started).
struct GatewayCounters {
  uint64_t connections = 0;      // frontend conn_tot: connections accepted from clients
  uint64_t http_requests = 0;    // backend l7 req_tot: requests through the HTTP engine
  uint64_t http_2xx = 0, http_other = 0;  // backend l7 responses: 2xx, and anything else
  uint64_t upstream_connects = 0;         // backend l7 connect: new connections to servers
  uint64_t upstream_reuses = 0;           // backend l7 reuse: requests on a kept server connection
  uint64_t tcp_sessions = 0;              // backend l4 stot: non-HTTP connections relayed
  GatewayCounters operator-(const GatewayCounters& o) const;
  nlohmann::json to_json() const;
};

class HaproxyGateway {
 public:
  static constexpr const char* kName = "haproxy";
  // Why the gateway cannot run here (HAProxy missing: the apt-get hint), or nullopt.
  static std::optional<std::string> unavailable();

  // upstream_ip: where the l7/l4 backends connect: "" = the original destination (transparent
  // paths), else that address on the port the client connected to (proxy-plain).
  HaproxyGateway(const std::string& netns, const PathSettings& settings, std::string upstream_ip);
  ~HaproxyGateway();
  HaproxyGateway(const HaproxyGateway&) = delete;
  HaproxyGateway& operator=(const HaproxyGateway&) = delete;

  // Adds a listener (made here, in the DUT) and (re)starts HAProxy with every listener so far.
  // Idempotent per address:port. A restart drops no queued connection: the sockets stay open here.
  void listen(const std::string& ip, uint16_t port, bool transparent);
  std::vector<int> tcp_listener_fds() const;
  GatewayCounters counters() const;
  int pid() const;
  // --observe gateway-log: HAProxy writes a line per request, "<kLogTag> METHOD PATH STATUS Tt_ms",
  // to its stdout, which is this file (it changes when HAProxy restarts for a new listener).
  static constexpr const char* kLogTag = "pb-request";
  // CPU time the gateway's threads have run, in ns (/proc/<pid>/task/*/schedstat: the scheduler's
  // own accounting, ns resolution, user and kernel alike, its log writes included).
  uint64_t cpu_ns() const;
  bool logs_requests() const { return settings_.observe == "gateway-log"; }
  std::string log_path() const;
  // What ran: tool, version, command, configuration.
  nlohmann::json record() const;

 private:
  void restart();
  std::string config_text() const;
  std::string netns_;
  PathSettings settings_;
  std::string upstream_ip_;
  struct Listener {
    std::string ip;
    uint16_t port;
    int fd;
  };
  std::vector<Listener> listeners_;
  std::string stats_path_, cfg_path_, cfg_, command_, version_;
  std::unique_ptr<ChildProcess> proc_;
};

}  // namespace pb

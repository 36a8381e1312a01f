// SPDX-License-Identifier: Apache-2.0
// proof/probe.h: the libpcap proof probe. Captures cost CPU, so they never run during a measured
// window: instead each path instance, once set up, carries a short known exchange (20 UDP
// request/replies, 5 TCP connections) while both end interfaces are captured, and the probe
// checks what the server really saw: which source (the client when routed, the proxy when
// re-originated), the original destination, and TTL 63 when the DUT routed (the client sends
// with 64).
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "kernel/sockets.h"
#include "proof/capture.h"

namespace pb {

class Roles;
class PathInstance;
struct Wiring;

// The probe in its three parts, so each runs where its role is (hosts mode: the server's part on
// the server host, the client's on the client host, the verdict at the orchestrator):
// the server's echo responders and capture, from construction to stop() ...
class ProbeServer {
 public:
  ProbeServer(const Roles& roles, uint16_t udp_port, uint16_t tcp_port);
  ~ProbeServer();
  ProbeServer(const ProbeServer&) = delete;
  ProbeServer& operator=(const ProbeServer&) = delete;
  CaptureSummary stop();  // the server-side capture; idempotent

 private:
  struct Impl;
  Impl* impl_;
};
// ... the client's exchange (20 UDP request/replies, 5 TCP connections) under its own capture ...
struct ProbeClientResult {
  int udp_ok = 0, tcp_ok = 0;
  std::string error;
  CaptureSummary capture;
  bool operator==(const ProbeClientResult&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ProbeClientResult, udp_ok, tcp_ok, error, capture)
ProbeClientResult probe_client(const Roles& roles, const Endpoint& udp_target, const Endpoint& tcp_target);
// ... and the verdict over both.
nlohmann::json probe_verdict(const Wiring& w, const CaptureSummary& server, const ProbeClientResult& client,
                             const std::string& expected_server_src, bool routes);

// Where the two halves run: in this process over the roles' namespaces (LocalProbe), or on the
// server's and the client's hosts through their agents (hosts mode).
class ProbeHalves {
 public:
  virtual ~ProbeHalves() = default;
  virtual void server_start(uint16_t udp_port, uint16_t tcp_port) = 0;
  virtual ProbeClientResult client(const Endpoint& udp_target, const Endpoint& tcp_target) = 0;
  virtual CaptureSummary server_stop() = 0;  // idempotent; also after a failed client half
};

class LocalProbe : public ProbeHalves {
 public:
  explicit LocalProbe(const Roles& roles) : roles_(roles) {}
  void server_start(uint16_t udp_port, uint16_t tcp_port) override;
  ProbeClientResult client(const Endpoint& udp_target, const Endpoint& tcp_target) override;
  CaptureSummary server_stop() override;

 private:
  const Roles& roles_;
  std::unique_ptr<ProbeServer> server_;
};

// The probe of one path instance, wherever its halves run: the path's targets for a UDP and a
// TCP exchange, the server half, the client half, the verdict. Never throws: a probe that could
// not run is a failed verdict with its reason.
nlohmann::json pcap_probe(ProbeHalves& halves, const Wiring& w, const PathInstance& path, uint16_t udp_port,
                          uint16_t tcp_port);

}  // namespace pb

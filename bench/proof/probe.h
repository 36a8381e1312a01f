// SPDX-License-Identifier: Apache-2.0
// proof/probe.h: the libpcap proof probe. Captures cost CPU, so they never run during a measured
// window: instead each path instance, once set up, carries a short known exchange (20 UDP
// request/replies, 5 TCP connections) while both end interfaces are captured, and the probe
// checks what the server really saw: which source (the client when routed, the proxy when
// re-originated), the original destination, and TTL 63 when the DUT routed (the client sends
// with 64).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>

namespace pb {

class Roles;
class PathInstance;

nlohmann::json pcap_probe(const Roles& roles, const PathInstance& path, uint16_t udp_port, uint16_t tcp_port);

}  // namespace pb

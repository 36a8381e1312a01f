// SPDX-License-Identifier: Apache-2.0
// roles/roles.h: where the three roles of a measurement run, and how they are wired — the one
// boundary between "what is measured" and "where it runs".
//
//   client (load generator) ── data link ── DUT (the path under test) ── data link ── server
//
// A Role names a network namespace: today three namespaces on this machine (roles/topology.h);
// in a VM guest the same three namespaces on another kernel; on real hosts the agent's own
// namespace (netns "", the host's) with the interfaces a hosts file names. Paths, workloads and
// proofs take every namespace, interface name and address from here, never from constants, so
// each of those is another implementation of this interface, not another code path.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace pb {

struct Role {
  std::string name;   // "client" | "dut" | "server"
  std::string netns;  // network namespace the role's sockets, programs and rules live in; "" = ours
  std::string where;  // for messages: "pb-3f9a1c-dut", "lab-dut-01"
  // false: the role runs on another host (hosts mode, seen from one host's agent): nothing of it
  // (namespace, interfaces, counters) is reachable from this process.
  bool local = true;
};

// Addresses and interface names of the data path (IPv4).
struct Wiring {
  std::string client_ip, dut_client_ip, dut_server_ip, server_ip;
  std::string client_dev, dut_client_dev, dut_server_dev, server_dev;
  std::string client_mac, dut_client_mac, dut_server_mac, server_mac;
  int prefix_len = 24;
  bool operator==(const Wiring&) const = default;
};
// The agent protocol carries the wiring as it is (hosts/protocol.h).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Wiring, client_ip, dut_client_ip, dut_server_ip, server_ip, client_dev,
                                                dut_client_dev, dut_server_dev, server_dev, client_mac, dut_client_mac,
                                                dut_server_mac, server_mac, prefix_len)

class Roles {
 public:
  virtual ~Roles() = default;
  virtual const Role& client() const = 0;
  virtual const Role& dut() const = 0;
  virtual const Role& server() const = 0;
  virtual const Wiring& wiring() const = 0;
  // For environment.topology: addresses, namespaces or hosts, links.
  virtual nlohmann::json describe() const = 0;
};

}  // namespace pb

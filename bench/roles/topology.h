// SPDX-License-Identifier: Apache-2.0
// roles/topology.h: the roles as three network namespaces on this machine, owned for the
// length of one path instance (a fresh one per instance: docs/gotchas.md "A policy rule slows
// forwarding for the namespace's life").
//
//   pb-<id>-cli              pb-<id>-dut                          pb-<id>-srv
//   cli0 198.18.1.1/24 ==veth== dut0 198.18.1.254 | dut1 198.18.2.254 ==veth== srv0 198.18.2.2/24
//
// Built and removed by netns/topology.sh (the same script a user can run by hand); the
// constructor calls `up`, the destructor `down` (logs, never throws).
#pragma once
#include <string>

#include "roles/roles.h"

namespace pb {

// The namespace topology's wiring (netns/topology.sh defines the same values).
struct Addr {
  static constexpr const char* kClient = "198.18.1.1";
  static constexpr const char* kDutClientSide = "198.18.1.254";
  static constexpr const char* kDutServerSide = "198.18.2.254";
  static constexpr const char* kServer = "198.18.2.2";
  static constexpr const char* kClientMac = "02:00:c6:12:01:01";
  static constexpr const char* kDut0Mac = "02:00:c6:12:01:fe";
  static constexpr const char* kDut1Mac = "02:00:c6:12:02:fe";
  static constexpr const char* kServerMac = "02:00:c6:12:02:02";
  static constexpr const char* kClientDev = "cli0";
  static constexpr const char* kDutClientDev = "dut0";
  static constexpr const char* kDutServerDev = "dut1";
  static constexpr const char* kServerDev = "srv0";
};
Wiring netns_wiring();

// Where netns/topology.sh is: $PATHBENCH_TOPOLOGY_SCRIPT, else next to an installed binary
// (<prefix>/bin/../share/pathbench/netns/topology.sh), else the source tree's copy.
std::string topology_script();

struct TopologyOptions {
  std::string tcp_cc;  // namespace default congestion control, where the kernel allows it
};

class Topology : public Roles {
 public:
  explicit Topology(std::string run_id, TopologyOptions opt = {});
  ~Topology() override;
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  const std::string& id() const { return id_; }
  const std::string& cli_ns() const { return client_.netns; }
  const std::string& dut_ns() const { return dut_.netns; }
  const std::string& srv_ns() const { return server_.netns; }

  const Role& client() const override { return client_; }
  const Role& dut() const override { return dut_; }
  const Role& server() const override { return server_; }
  const Wiring& wiring() const override { return wiring_; }
  nlohmann::json describe() const override;

  static void down(const std::string& run_id);  // throws on failure

 private:
  std::string id_;
  Role client_, dut_, server_;
  Wiring wiring_;
};

}  // namespace pb

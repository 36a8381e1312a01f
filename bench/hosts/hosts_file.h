// SPDX-License-Identifier: Apache-2.0
// hosts/hosts_file.h: the hosts file of `pathbench run --hosts FILE` — client, DUT and server on
// three hosts reached over OpenSSH. JSON (docs/hosts.md has the full format and an example):
//
//   {"hosts": [
//     {"role": "client", "ssh": "root@lab-cli", "management": "eno1",
//      "data": [{"dev": "enp1s0f0", "address": "198.18.1.1/24"}]},
//     {"role": "dut", "ssh": "root@lab-dut", "management": "eno1",
//      "data": [{"dev": "enp1s0f0", "address": "198.18.1.254/24"},    <- faces the client
//               {"dev": "enp1s0f1", "address": "198.18.2.254/24"}]},  <- faces the server
//     {"role": "server", "ssh": "root@lab-srv", "management": "eno1",
//      "data": [{"dev": "enp1s0f0", "address": "198.18.2.2/24"}]}]}
//
// Optional per host: "port", "identity" (ssh -i), "known_hosts" (UserKnownHostsFile),
// "ssh_config" (ssh -F), "pathbench" (the command on that host; default "pathbench").
// Validation here is of the file alone (a role missing or doubled, a data interface that is the
// management interface, addresses outside 198.18.0.0/15); what needs the host is checked by its
// agent (hosts/agent.h).
#pragma once
#include <string>
#include <vector>

#include "roles/roles.h"

namespace pb {

struct DataInterface {
  std::string dev;
  std::string ip;
  int prefix_len = 24;
};

struct HostSpec {
  std::string role;        // client | dut | server
  std::string ssh;         // destination: [user@]host
  int port = 22;
  std::string identity, known_hosts, ssh_config;
  std::string pathbench = "pathbench";
  std::string management;  // never touched
  std::vector<DataInterface> data;  // client, server: one; dut: client side, then server side
  std::string where() const { return role + " (" + ssh + ")"; }
};

struct HostsConfig {
  std::string file;
  HostSpec client, dut, server;
  const HostSpec& of(const std::string& role) const;
  // The data path as the paths see it (MACs are filled in from the agents).
  Wiring wiring() const;
};

// Throws Error(kExitHostsFile) or Error(kExitHostsUnsafe) with one line naming the problem.
HostsConfig load_hosts_file(const std::string& path);

}  // namespace pb

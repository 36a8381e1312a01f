// SPDX-License-Identifier: Apache-2.0
// hosts/host_checks.h: what an agent checks on its host before anything is changed there, as pure
// functions over what `ip -j` says (JSON, not the human text of `ip -o`), so each is unit-tested on
// captured output (tests/hosts/data/). Two phases, each run on every host before the next:
//   safety: no data interface carries the default route or the SSH session's own address (21);
//   wiring: the management and data interfaces exist, each data interface has its address, the
//           DUT forwards, the client and server reach the far subnet through the DUT (25).
// gather_host_facts() is the only part that runs anything (`ip -j ...`, one sysctl read).
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hosts/hosts_file.h"
#include "roles/roles.h"

namespace pb {

struct HostFacts {
  std::string hostname;
  nlohmann::json links = nlohmann::json::array();           // ip -j link show
  nlohmann::json addresses = nlohmann::json::array();       // ip -j -4 addr show
  nlohmann::json default_routes = nlohmann::json::array();  // ip -j -4 route show default
  std::map<std::string, nlohmann::json> route_to;           // destination -> ip -j -4 route get <destination>
  bool forwarding = false;                                   // net.ipv4.ip_forward
  std::string session_ip;  // this host's end of the SSH session (SSH_CONNECTION), "" when not over ssh
};

// The data interfaces of a role: client and server one each, the DUT its client side, then its
// server side.
std::vector<DataInterface> data_interfaces(const std::string& role, const Wiring& w);
// The destination whose route the role must have through the DUT ("" for the DUT).
std::string far_end(const std::string& role, const Wiring& w);

// Over `ip -j link show`:
std::vector<std::string> link_names(const nlohmann::json& links);
std::string link_mac(const nlohmann::json& links, const std::string& dev);  // "" when absent
// Over `ip -j -4 addr show`: the IPv4 addresses of dev as "ip/prefix".
std::vector<std::string> addresses_of(const nlohmann::json& addresses, const std::string& dev);
// Whether dev has ip (with this prefix length; any with prefix_len < 0).
bool has_address(const nlohmann::json& addresses, const std::string& dev, const std::string& ip, int prefix_len);

// Each throws Error with its exit code (21, 25) and one line naming the problem.
void check_safety(const HostFacts& f, const std::vector<DataInterface>& data);
// Returns the data interfaces' MACs ({dev: mac}).
nlohmann::json check_wiring(const HostFacts& f, const std::string& role, const Wiring& w, const std::string& management);

// Runs `ip -j` (links, addresses, default routes, the route to the far end) and reads
// net.ipv4.ip_forward and SSH_CONNECTION, in this process's namespace.
HostFacts gather_host_facts(const std::string& role, const Wiring& w);

}  // namespace pb

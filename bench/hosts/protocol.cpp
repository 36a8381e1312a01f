// SPDX-License-Identifier: Apache-2.0
#include "hosts/protocol.h"

namespace pb {

HostRoles::HostRoles(const std::string& here, Wiring w, nlohmann::json hosts)
    : wiring_(std::move(w)), hosts_(std::move(hosts)) {
  auto mk = [&](const char* name) {
    Role r{name, "", hosts_.value(name, std::string(name))};
    r.local = here == name;
    return r;
  };
  client_ = mk("client");
  dut_ = mk("dut");
  server_ = mk("server");
}

nlohmann::json HostRoles::describe() const {
  return {{"kind", "hosts over ssh"},
          {"client", wiring_.client_ip},
          {"dut_client_side", wiring_.dut_client_ip},
          {"dut_server_side", wiring_.dut_server_ip},
          {"server", wiring_.server_ip},
          {"hosts", hosts_},
          {"links", wiring_.client_dev + "<->" + wiring_.dut_client_dev + ", " + wiring_.dut_server_dev + "<->" +
                        wiring_.server_dev}};
}

}  // namespace pb

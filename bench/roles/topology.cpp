// SPDX-License-Identifier: Apache-2.0
#include "roles/topology.h"

#include <unistd.h>

#include <cstdlib>

#include "common/error.h"
#include "common/log.h"
#include "common/strings.h"
#include "kernel/netns.h"
#include "kernel/process.h"
#include "kernel/sysctl.h"

#ifndef PATHBENCH_SOURCE_DIR
#error "PATHBENCH_SOURCE_DIR must be defined by the build"
#endif

namespace pb {

Wiring netns_wiring() {
  return Wiring{Addr::kClient,    Addr::kDutClientSide, Addr::kDutServerSide, Addr::kServer,
                Addr::kClientDev, Addr::kDutClientDev,  Addr::kDutServerDev,  Addr::kServerDev,
                Addr::kClientMac, Addr::kDut0Mac,       Addr::kDut1Mac,       Addr::kServerMac, 24};
}

std::string topology_script() {
  if (const char* e = std::getenv("PATHBENCH_TOPOLOGY_SCRIPT")) return e;
  // An installed pathbench (cmake --install, any prefix) finds the script next to itself:
  // <prefix>/bin/pathbench -> <prefix>/share/pathbench/netns/topology.sh. A build tree uses the
  // source tree's copy.
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string exe(self, static_cast<size_t>(n));
    std::string installed = exe.substr(0, exe.rfind('/')) + "/../share/pathbench/netns/topology.sh";
    if (access(installed.c_str(), X_OK) == 0) return installed;
  }
  return std::string(PATHBENCH_SOURCE_DIR) + "/netns/topology.sh";
}

Topology::Topology(std::string run_id, TopologyOptions opt) : id_(std::move(run_id)), wiring_(netns_wiring()) {
  client_ = {"client", "pb-" + id_ + "-cli", "pb-" + id_ + "-cli"};
  dut_ = {"dut", "pb-" + id_ + "-dut", "pb-" + id_ + "-dut"};
  server_ = {"server", "pb-" + id_ + "-srv", "pb-" + id_ + "-srv"};
  // Always from scratch: `up` on an existing topology keeps it as it is (idempotent, for hands),
  // but a run must not inherit whatever a crashed run with the same --run-id left inside it.
  run_cmd({topology_script(), "down", id_}, {}, 60);
  CmdResult r = run_cmd({topology_script(), "up", id_}, {}, 60);
  if (r.status != 0) {
    // The script removes a partial topology itself; make sure anyway.
    run_cmd({topology_script(), "down", id_}, {}, 60);
    throw EnvError("topology up " + id_ + " failed: " + trim(r.err));
  }
  if (!opt.tcp_cc.empty()) {
    // The namespaces' default congestion control, for sockets pathbench does not make itself
    // (reference tools). A non-initial namespace may only choose one listed in
    // net.ipv4.tcp_allowed_congestion_control (cubic often is not): then the default stays and
    // pathbench's own sockets still get the run's choice per socket (kernel/sockets.h).
    for (const Role* role : {&client_, &dut_, &server_})
      try {
        run_in_netns(role->netns, [&] { write_sysctl("net.ipv4.tcp_congestion_control", opt.tcp_cc); });
      } catch (const std::exception&) {
        log::debug("{}: namespace default congestion control stays (kernel allows only {})", role->netns,
                   try_read_sysctl("net.ipv4.tcp_allowed_congestion_control").value_or("?"));
      }
  }
  log::debug("topology {} up", id_);
}

Topology::~Topology() {
  try {
    down(id_);
    log::debug("topology {} down", id_);
  } catch (const std::exception& e) {
    log::error("topology down {}: {}", id_, e.what());
  }
}

void Topology::down(const std::string& run_id) {
  run_cmd_checked({topology_script(), "down", run_id}, {}, 60);
}

nlohmann::json Topology::describe() const {
  return {{"kind", "network namespaces on this machine"},
          {"client", wiring_.client_ip},
          {"dut_client_side", wiring_.dut_client_ip},
          {"dut_server_side", wiring_.dut_server_ip},
          {"server", wiring_.server_ip},
          {"namespaces", {client_.netns, dut_.netns, server_.netns}},
          {"links", "veth cli0<->dut0, veth dut1<->srv0"}};
}

}  // namespace pb

// SPDX-License-Identifier: Apache-2.0
// peers/tools.h: reference tools (iperf3, sockperf, wrk) run beside pathbench's own generators on
// the same path instance, interleaved with them, as "reference" rows in run.json.
#pragma once
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "workloads/workload.h"

namespace pb {

struct PeerContext {
  const Roles& roles;
  Endpoint target;       // where the client tool connects (the path may redirect)
  Endpoint server_bind;  // where the server tool listens
  const WorkloadOptions& opt;
};

struct PeerRun {
  WorkloadResult result;     // metrics in pathbench's units and names
  nlohmann::json reference;  // {"tool","version","command",...}
};

struct PeerTool {
  std::string tool;
  std::string workload;  // the pathbench workload it mirrors
  bool reports_connections = true;  // wrk reports requests only: it cannot prove a proxy path
  std::function<std::optional<std::string>()> unavailable;
  std::function<PeerRun(const PeerContext&)> run;
};

const std::vector<PeerTool>& peer_tools();

// Helpers shared with peers/haproxy.cpp.
std::vector<std::string> pinned(int cpu, std::vector<std::string> argv);  // taskset -c cpu ...
std::string version_of(const std::vector<std::string>& argv, const std::string& pattern);
// Waits until something listens on the port in the namespace (ss from iproute2); throws EnvError.
void wait_listening(const std::string& ns, bool tcp, uint16_t port, const std::string& tool);
// "<tool> not installed (apt-get install <package>)" for the first missing one.
std::optional<std::string> need_tools(const std::vector<std::pair<std::string, std::string>>& tools);

}  // namespace pb

// peers.h: reference tools (iperf3, sockperf, wrk) run beside pathbench's own generators on the
// same path instance, interleaved with them, as "reference" rows in run.json.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/workload.h"

namespace pb {

class Topology;

struct PeerContext {
  const Topology& topo;
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
  std::function<std::optional<std::string>()> unavailable;
  std::function<PeerRun(const PeerContext&)> run;
};

const std::vector<PeerTool>& peer_tools();

}  // namespace pb

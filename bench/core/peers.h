// peers.h: reference tools (iperf3, sockperf, wrk) run beside pathbench's own generators on the
// same path instance, interleaved with them, as "reference" rows in run.json.
#pragma once
#include <functional>
#include <memory>
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

class PathInstance;
struct PathContext;

// HAProxy (TCP mode, `bind ... transparent`, `server 0.0.0.0:0` = the original destination) in
// the DUT behind tproxy-nft's interception: the reference for pathbench's own proxy on
// tproxy-nft, driven by pathbench's generators. RAII: stops HAProxy, removes the interception.
class HaproxyTproxy {
 public:
  static std::optional<std::string> unavailable();
  HaproxyTproxy(const PathContext& ctx, int cpu);
  ~HaproxyTproxy();
  PathInstance& path() { return *path_; }
  const nlohmann::json& reference() const { return ref_; }

 private:
  std::unique_ptr<PathInstance> path_;
  std::unique_ptr<class ChildProcess> proc_;
  std::string cfg_path_;
  nlohmann::json ref_;
};

}  // namespace pb

// path.h: a path under test. A PathInstance is the RAII owner of everything one path puts in the
// DUT (programs, links, nft tables, rules, routes, proxy threads): built in its constructor,
// removed in its destructor (which logs, never throws). The runner builds one per path per
// repetition (A B C A B C ...), runs every workload through it, then destroys it.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/topology.h"
#include "core/workload.h"

namespace pb {

struct RunConfig;

struct PathContext {
  const Topology& topo;
  const RunConfig& cfg;
};

class PathInstance {
 public:
  virtual ~PathInstance() = default;
  // Whether this path can carry a workload (e.g. xdp_pps through a proxy); reason if not.
  virtual std::optional<std::string> unsupported_workload(const WorkloadInfo&) const {
    return std::nullopt;
  }
  // Where the client sends for this workload; default: straight to the server.
  virtual Endpoint client_target(const WorkloadOptions&, const Endpoint& server) const {
    return server;
  }
  // Around a workload run (warm-up included). end() returns the path's proof for that run:
  // counters and checks; set "ok": false and "reason" when the traffic did not take the path.
  virtual void begin(const WorkloadOptions&) {}
  virtual nlohmann::json end(const WorkloadOptions&, const WorkloadTotals&) {
    return {{"ok", true}};
  }
  // What the server-side capture of the proof probe must see as the source address, and
  // whether the path routes (TTL decremented by one) or terminates and re-originates.
  virtual std::string expected_server_src() const { return Addr::kClient; }
  virtual bool routes() const { return true; }
};

struct PathInfo {
  std::string name;
  std::string description;
  bool in_default_suite = true;
  // Reason this kernel/machine cannot run the path, or nullopt. Cheap and side-effect free.
  std::function<std::optional<std::string>()> unsupported;
  std::function<std::unique_ptr<PathInstance>(const PathContext&)> make;
};

const std::vector<PathInfo>& all_paths();
const PathInfo* find_path(const std::string& name);

// Registration hooks, one per source file that defines paths.
void add_baseline_path(std::vector<PathInfo>& v);    // bench/paths/baseline.cpp
void add_forwarding_paths(std::vector<PathInfo>& v); // bench/paths/forwarding.cpp (tc/xdp)
void add_proxy_paths(std::vector<PathInfo>& v);      // bench/paths/proxy.cpp

// tproxy-nft's interception (nft tproxy rule, fwmark rule, local route) toward a proxy that is
// not pathbench's, listening on proxy_port in the DUT (peers mode: HAProxy).
std::unique_ptr<PathInstance> make_tproxy_nft_external(const PathContext& ctx, uint16_t proxy_port);

// Counters of the IPv4 MIB (/proc/net/snmp "Ip:" and "Udp:" lines, /proc/net/netstat) of a namespace.
std::map<std::string, uint64_t> read_snmp(const std::string& ns);

}  // namespace pb

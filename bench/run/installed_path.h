// SPDX-License-Identifier: Apache-2.0
// run/installed_path.h: one path instance installed in the DUT role, the way every site installs
// one: the calibrated slowdown first (--inject-cost-ns-per-packet, so it runs ahead of the path's
// own TC programs), then HAProxy behind the interception (--peers) or the path itself; after
// setup, the timed service updates (--services) and the API observer (--observe, paths/observer.h). Namespace mode installs it in this process
// (run/netns_site.cpp), hosts mode on the DUT host's agent (hosts/agent.cpp): one code for both.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "paths/path.h"

namespace pb {

class ApiObserver;
class CostInjection;
class HaproxyTproxy;

struct InstallOptions {
  PathSettings settings;
  bool haproxy = false;                   // HAProxy in place of pathbench's proxy (peers mode)
  int haproxy_cpu = -1;
  std::optional<double> inject_cost_ns;   // calibrated slowdown per packet at the DUT
};

class InstalledPath {
 public:
  // Why the path cannot run on this machine, or nullopt (cheap; nothing is installed).
  static std::optional<std::string> unsupported(const PathInfo& info, const InstallOptions& opt);
  // Installs; throws on failure with nothing left installed (PathUnsupportedHere when the path
  // cannot run on these roles at all: a skip, not a failure).
  InstalledPath(const PathInfo& info, const Roles& roles, const InstallOptions& opt);
  ~InstalledPath();
  InstalledPath(const InstalledPath&) = delete;
  InstalledPath& operator=(const InstalledPath&) = delete;

  PathInstance& path() { return *path_; }
  // HAProxy's own details (version, command) on the reference rows it carried.
  void annotate_row(nlohmann::json& row) const;
  // Removes everything now, path first; returns the instance record's additions:
  // "configuration", "scale" and, with an injected cost, "injected_cost". Idempotent.
  nlohmann::json teardown();
  nlohmann::json pending_undo_commands() const;

 private:
  void drop_observer();
  std::unique_ptr<CostInjection> cost_;
  std::unique_ptr<HaproxyTproxy> haproxy_;
  std::unique_ptr<PathInstance> own_;
  PathInstance* path_ = nullptr;
  // --observe ebpf-*: on the DUT's interface, installed after the path and removed before it
  // (gateway-log is the gateway's own, paths/proxy_path.cpp).
  std::unique_ptr<ApiObserver> observer_;
  nlohmann::json torn_down_;  // teardown()'s answer, once given
};

}  // namespace pb

// SPDX-License-Identifier: Apache-2.0
// run/netns_site.h: the roles as three network namespaces on this machine (roles/topology.h), a
// Site (run/site.h) for the one runner. Every path instance after the first gets a freshly built
// topology, so no path inherits kernel state from the one before (docs/gotchas.md "A policy rule
// slows forwarding for the namespace's life"); the path is installed in this process
// (run/installed_path.h), and the proof probe's halves run here too.
#pragma once
#include <memory>

#include "proof/probe.h"
#include "roles/topology.h"
#include "run/config.h"
#include "run/runstate.h"
#include "run/site.h"

namespace pb {

class NamespaceSite : public Site {
 public:
  // Writes the run's owner record (run/runstate.h) before anything exists.
  explicit NamespaceSite(const RunConfig& cfg);
  ~NamespaceSite() override;

  nlohmann::json environment() override;
  BuiltPath build(const InstancePlan& plan) override;
  const Roles& roles() const override { return *topo_; }
  ProbeHalves& probe() override { return *probe_; }
  Generator generator(const Trial& t) override;
  void close() override;

 private:
  void fresh_topology();
  const RunConfig& cfg_;
  RunState state_;                   // removed last, after the namespaces
  std::unique_ptr<Topology> topo_;
  std::unique_ptr<LocalProbe> probe_;
  unsigned built_ = 0;
};

}  // namespace pb

// SPDX-License-Identifier: Apache-2.0
#include "run/netns_site.h"

#include "common/log.h"
#include "measure/environment.h"
#include "run/installed_path.h"
#include "run/schedule.h"

namespace pb {

namespace {

class LocalPath : public SitePath {
 public:
  LocalPath(const PathInfo& info, const Roles& roles, const InstallOptions& opt) : installed_(info, roles, opt) {}
  PathInstance& path() override { return installed_.path(); }
  void annotate_row(nlohmann::json& row) const override { installed_.annotate_row(row); }
  nlohmann::json teardown() override { return installed_.teardown(); }

 private:
  InstalledPath installed_;
};

}  // namespace

NamespaceSite::NamespaceSite(const RunConfig& cfg) : cfg_(cfg), state_(cfg.run_id) {}

NamespaceSite::~NamespaceSite() { close(); }

void NamespaceSite::fresh_topology() {
  probe_.reset();
  topo_.reset();
  topo_ = std::make_unique<Topology>(cfg_.run_id, TopologyOptions{cfg_.tcp_cc});
  probe_ = std::make_unique<LocalProbe>(*topo_);
}

nlohmann::json NamespaceSite::environment() {
  log::info("run {}: topology up (pb-{}-cli / -dut / -srv)", cfg_.run_id, cfg_.run_id);
  fresh_topology();
  nlohmann::json env = collect_environment(topo_.get());
  env["cpu_pinning"] = pinning_json(cfg_.pinning);
  return env;
}

BuiltPath NamespaceSite::build(const InstancePlan& plan) {
  const PathInfo& info = *find_path(plan.path);
  const InstallOptions opt{plan.settings, plan.haproxy, placement(cfg_.pinning).proxy_cpu, cfg_.inject_cost_ns};
  if (auto why = InstalledPath::unsupported(info, opt)) return {nullptr, why};
  // The first instance uses the topology the environment was read from.
  if (++built_ > 1 || !topo_) fresh_topology();
  try {
    return {std::make_unique<LocalPath>(info, *topo_, opt), std::nullopt};
  } catch (const PathUnsupportedHere& e) {
    return {nullptr, std::string(e.what())};
  }
}

Generator NamespaceSite::generator(const Trial& t) { return generator_for(t, *t.workload); }

void NamespaceSite::close() {
  if (!topo_) return;
  log::info("run {}: tearing down", cfg_.run_id);
  probe_.reset();
  topo_.reset();
}

}  // namespace pb

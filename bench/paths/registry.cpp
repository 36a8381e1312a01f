// SPDX-License-Identifier: Apache-2.0
// paths/registry.cpp: the paths this build knows (each registers itself, PB_REGISTER_PATH), and
// what every PathInstance shares.

#include "common/strings.h"
#include "kernel/host.h"
#include "kernel/process.h"
#include "paths/observer.h"
#include "paths/path.h"

namespace pb {

PathInfo intercepted_path(std::string name, std::string description, int order, Technology t) {
  PathInfo p;
  p.name = std::move(name);
  p.description = std::move(description);
  p.order = order;
  p.kind = PathKind::kIntercepted;
  p.technology = t;
  p.via_proxy = true;
  p.routes = false;
  return p;
}

PathInfo bpf_forwarded_path(std::string name, std::string description, int order) {
  PathInfo p;
  p.name = std::move(name);
  p.description = std::move(description);
  p.order = order;
  p.kind = PathKind::kBpfForwarded;
  p.technology = Technology::kEbpf;
  return p;
}

PathInfo control_path(std::string name, std::string description, int order, std::string control_for,
                      std::vector<std::string> controls) {
  PathInfo p;
  p.name = std::move(name);
  p.description = std::move(description);
  p.order = order;
  p.kind = PathKind::kControl;
  p.control_for = std::move(control_for);
  p.controls = std::move(controls);
  return p;
}

const char* to_string(PathKind k) {
  static const char* const names[] = {"kernel-routed", "bpf-forwarded", "intercepted", "control"};
  return names[static_cast<int>(k)];
}
const char* to_string(Technology t) {
  static const char* const names[] = {"none", "tproxy", "ebpf"};
  return names[static_cast<int>(t)];
}
const char* to_string(MatchPosition m) {
  static const char* const names[] = {"first", "middle", "last"};
  return names[static_cast<int>(m)];
}

nlohmann::json PathSettings::options_json() const {
  nlohmann::json o = nlohmann::json::object();
  if (services) o = {{"services", services}, {"match_position", to_string(match_position)}};
  // Only when one stands in: runs without --gateway keep their meaning.
  if (gateway != "none") o["gateway"] = gateway;
  if (observe != "none") o["observe"] = observe;
  return o;
}

std::string PathInfo::compare_against() const {
  for (auto& c : all_paths())
    for (auto& target : c.controls)
      if (target == name || target == std::string("kind:") + to_string(kind)) return c.name;
  for (auto& r : all_paths())
    if (r.reference) return r.name;
  return {};
}

nlohmann::json PathInfo::catalogue_json() const {
  nlohmann::json params = nlohmann::json::array();
  if (takes_services()) params = {"services", "match_position"};
  if (takes_gateway()) params.push_back("gateway");
  return {{"name", name},
          {"description", description},
          {"order", order},
          {"kind", to_string(kind)},
          {"technology", to_string(technology)},
          {"via_proxy", via_proxy},
          {"routes", routes},
          {"keeps_client_source", keeps_client_source},
          {"reference", reference},
          {"compare_against", reference ? nlohmann::json(nullptr) : nlohmann::json(compare_against())},
          {"controls", controls},
          {"control_for", control_for.empty() ? nlohmann::json(nullptr) : nlohmann::json(control_for)},
          {"parameters", params},
          {"max_services", max_services},
          {"in_default_suite", in_default_suite}};
}

PathInstance::PathInstance(const PathContext& ctx)
    : info_(ctx.info), roles_(ctx.roles), wiring_(ctx.roles.wiring()), settings_(ctx.settings),
      undo_(ctx.roles.dut().netns) {}

PathInstance::~PathInstance() { undo_.undo_all(); }

void PathInstance::begin(const WorkloadInfo& wl, const WorkloadOptions& w) {
  path_begin(wl, w);
  if (observer_) observer_->begin(wl, w);
}

nlohmann::json PathInstance::end(const WorkloadInfo& wl, const WorkloadOptions& w, const WorkloadTotals& t) {
  nlohmann::json p = path_end(wl, w, t);
  if (!observer_) return p;
  nlohmann::json o = observer_->end(wl, w, t);
  if (p.value("ok", true) && !o.value("ok", true)) {
    p["ok"] = false;
    p["reason"] = "observer: " + o.value("reason", std::string("(no reason)"));
  }
  p["observer"] = std::move(o);
  return p;
}

std::optional<std::string> PathInstance::unsupported_workload(const WorkloadInfo& w) const {
  if (info_.via_proxy && w.transport == Transport::kFrames)
    return w.name + " injects raw frames below the socket layer; a path that terminates traffic in a proxy "
                    "has no socket for them, so they cannot go through it";
  return std::nullopt;
}

std::string PathInstance::expected_server_src() const {
  return info_.via_proxy && !info_.keeps_client_source ? wiring_.dut_server_ip : wiring_.client_ip;
}

bool PathInstance::routes() const { return info_.routes; }

std::optional<std::string> need_root(const std::string& why) {
  if (!is_root()) return "needs root (" + why + ")";
  return std::nullopt;
}

std::optional<std::string> need_program(const std::string& program, const std::string& package) {
  if (!find_program(program)) return program + " not found (apt-get install " + package + ")";
  return std::nullopt;
}

}  // namespace pb

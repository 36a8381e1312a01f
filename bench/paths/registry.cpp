// SPDX-License-Identifier: Apache-2.0
// paths/registry.cpp: the paths this build knows (each registers itself, PB_REGISTER_PATH), and
// what every PathInstance shares.
#include <algorithm>

#include "common/strings.h"
#include "kernel/host.h"
#include "kernel/process.h"
#include "paths/path.h"

namespace pb {

namespace {
std::vector<std::function<PathInfo()>>& makers() {
  static std::vector<std::function<PathInfo()>> v;
  return v;
}
}  // namespace

PathRegistrar::PathRegistrar(std::function<PathInfo()> make) { makers().push_back(std::move(make)); }

const std::vector<PathInfo>& all_paths() {
  static const std::vector<PathInfo> v = [] {
    std::vector<PathInfo> p;
    for (auto& m : makers()) p.push_back(m());
    std::stable_sort(p.begin(), p.end(), [](const PathInfo& a, const PathInfo& b) {
      return a.order != b.order ? a.order < b.order : a.name < b.name;
    });
    return p;
  }();
  return v;
}

const PathInfo* find_path(const std::string& name) {
  for (auto& p : all_paths())
    if (p.name == name) return &p;
  return nullptr;
}

const char* to_string(PathKind k) {
  switch (k) {
    case PathKind::kKernelRouted: return "kernel-routed";
    case PathKind::kBpfForwarded: return "bpf-forwarded";
    case PathKind::kIntercepted: return "intercepted";
    case PathKind::kControl: return "control";
  }
  return "?";
}
const char* to_string(Technology t) {
  switch (t) {
    case Technology::kNone: return "none";
    case Technology::kTproxy: return "tproxy";
    case Technology::kEbpf: return "ebpf";
  }
  return "?";
}
const char* to_string(MatchPosition m) {
  switch (m) {
    case MatchPosition::kFirst: return "first";
    case MatchPosition::kMiddle: return "middle";
    case MatchPosition::kLast: return "last";
  }
  return "?";
}

nlohmann::json PathSettings::options_json() const {
  if (services == 0) return nlohmann::json::object();
  return {{"services", services}, {"match_position", to_string(match_position)}};
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

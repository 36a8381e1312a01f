// SPDX-License-Identifier: Apache-2.0
// workloads/registry.cpp: the workloads this build knows. Each source file registers its own at
// static initialisation (PB_REGISTER_WORKLOAD), so adding a workload is adding a file; the
// harness is linked from an object library so no registration is dropped by the linker.
#include <algorithm>
#include <mutex>

#include "workloads/workload.h"

namespace pb {

namespace {
std::vector<std::function<WorkloadInfo()>>& makers() {
  static std::vector<std::function<WorkloadInfo()>> v;
  return v;
}
}  // namespace

WorkloadRegistrar::WorkloadRegistrar(std::function<WorkloadInfo()> make) { makers().push_back(std::move(make)); }

const std::vector<WorkloadInfo>& all_workloads() {
  static const std::vector<WorkloadInfo> v = [] {
    std::vector<WorkloadInfo> w;
    for (auto& m : makers()) w.push_back(m());
    std::stable_sort(w.begin(), w.end(), [](const WorkloadInfo& a, const WorkloadInfo& b) {
      return a.order != b.order ? a.order < b.order : a.name < b.name;
    });
    return w;
  }();
  return v;
}

const WorkloadInfo* find_workload(const std::string& name) {
  for (auto& w : all_workloads())
    if (w.name == name) return &w;
  return nullptr;
}

const char* to_string(Protocol p) { return p == Protocol::kTcp ? "tcp" : "udp"; }
const char* to_string(Transport t) { return t == Transport::kSocket ? "socket" : "frames"; }
const char* to_string(Pattern p) {
  switch (p) {
    case Pattern::kStream: return "stream";
    case Pattern::kRr: return "rr";
    case Pattern::kCrr: return "crr";
    case Pattern::kPps: return "pps";
  }
  return "?";
}

nlohmann::json WorkloadInfo::catalogue_json() const {
  return {{"name", name},
          {"description", description},
          {"order", order},
          {"protocol", to_string(protocol)},
          {"transport", to_string(transport)},
          {"pattern", to_string(pattern)},
          {"primary_metric", primary_metric},
          {"cpu_metric", cpu_metric},
          {"latency", has_latency()},
          {"default_payload_bytes", default_payload},
          {"in_default_suite", in_default_suite}};
}

nlohmann::json WorkloadOptions::to_json() const {
  return {{"payload_bytes", payload_bytes}, {"response_bytes", response_bytes},
          {"flows", flows},                 {"duration_s", duration_s},
          {"warmup_s", warmup_s},           {"cooldown_s", cooldown_s},
          {"rate_pps", rate_pps},           {"port", port},
          {"stall_timeout_s", stall_timeout_s}, {"client_cpu", client_cpu},
          {"server_cpu", server_cpu},       {"tcp_cc", tcp_cc}};
}

nlohmann::json WorkloadTotals::to_json() const {
  return {{"transactions", transactions},   {"connections", connections},
          {"bytes_sent", bytes_sent},       {"packets_sent", packets_sent},
          {"packets_received", packets_received}};
}

}  // namespace pb

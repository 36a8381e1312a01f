// SPDX-License-Identifier: Apache-2.0
// workloads/registry.cpp: what every workload shares (trait names, the catalogue entry, options
// and totals as JSON: workload.h, beside the structs). The workloads register themselves (common/registry.h).
#include "workloads/workload.h"

namespace pb {

const char* to_string(Protocol p) { return p == Protocol::kTcp ? "tcp" : "udp"; }
const char* to_string(Transport t) { return t == Transport::kSocket ? "socket" : "frames"; }
const char* to_string(Pattern p) {
  static const char* const names[] = {"stream", "rr", "crr", "pps"};
  return names[static_cast<int>(p)];
}

const char* to_string(Application a) { return a == Application::kHttp ? "http" : "none"; }

nlohmann::json WorkloadInfo::catalogue_json() const {
  nlohmann::json j = {{"name", name},
                      {"description", description},
                      {"order", order},
                      {"protocol", to_string(protocol)},
                      {"transport", to_string(transport)},
                      {"pattern", to_string(pattern)},
                      {"application", to_string(application)},
                      {"primary_metric", primary_metric},
                      {"cpu_metric", cpu_metric},
                      {"latency", has_latency()},
                      {"default_payload_bytes", default_payload},
                      {"open_loop", open_loop},
                      {"in_default_suite", in_default_suite}};
  // Absent: the response is as large as the request.
  if (default_response) j["default_response_bytes"] = *default_response;
  return j;
}

}  // namespace pb

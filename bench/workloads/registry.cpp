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

}  // namespace pb

// SPDX-License-Identifier: Apache-2.0
// paths/observer.h: observing API calls on the DUT (`pathbench run --observe`), a sweep axis like
// --gateway, so one run sets the same traffic with and without each observer side by side:
//
//   none         nothing observes (the control)
//   ebpf-empty   the eBPF observer's hooks with empty programs: the hook's own cost
//   ebpf-http    bpf/http_observe.bpf.c at TC ingress and egress of the DUT's client-facing
//                interface: requests per method and route, and a per-route latency histogram,
//                in BPF maps (Beyla's and Pixie's claim, made in the kernel)
//   gateway-log  the gateway's own per-request log (HAProxy's `log stdout`, one line per request:
//                method, path, status, time), what an API gateway offers without eBPF
//
// Every observer's proof (proof.observer) is its count per route against the generator's: it saw
// every request the generator completed, and at most the requests in flight besides. Its cost is
// the run's own figures (CPU per request, p99) against `none` on the same path and gateway.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "roles/roles.h"
#include "workloads/workload.h"

namespace pb {

class HaproxyGateway;

// The --observe values, in their order.
const std::vector<std::string>& observe_kinds();
// The most routes the eBPF observer tells apart (bpf/pb_shared.h PB_HTTP_ROUTES_MAX).
size_t observe_max_routes();

// The route key (bpf/pb_shared.h) of a route, "GET /api/v1/orders/{id}": its method, then its path
// segments, where a {...} placeholder is a whole segment and stands for the digits-only segment a
// request has there. Throws UsageError for a placeholder inside a segment, and for a digits-only
// literal segment (a request's digits are the placeholder, never a literal).
uint64_t route_key(const std::string& route_text);
// The route key of a request line ("METHOD SP path[?query] ..."), as the BPF program computes it;
// nullopt when the path does not end (' ' or '?') in the line. The C++ twin of the BPF program's
// request_key (the gateway's log is counted with it), tested against the same cases.
std::optional<uint64_t> request_key(std::string_view line);
// Does the request line go to this route?
bool route_matches(const std::string& route_text, std::string_view line);

class ApiObserver {
 public:
  virtual ~ApiObserver() = default;
  virtual void begin(const WorkloadInfo&, const WorkloadOptions&) = 0;
  // proof.observer: {"kind", "ok", "reason"?, "routes": {route: {"requests", "generator", latency}}, ...}
  virtual nlohmann::json end(const WorkloadInfo&, const WorkloadOptions&, const WorkloadTotals&) = 0;
};

// ebpf-empty or ebpf-http on the DUT's client-facing interface (roles.wiring().dut_client_dev),
// first on both TC hooks. Throws BpfError when the kernel refuses it.
std::unique_ptr<ApiObserver> make_ebpf_observer(const Roles& roles, const std::string& kind);
// gateway-log: counts the gateway's log lines (the gateway must run with observe = gateway-log).
std::unique_ptr<ApiObserver> make_gateway_log_observer(const HaproxyGateway& gateway);

// The generator's requests per route for a row (its totals, or, for a tool that sends one route
// and reports only its total, that total).
std::vector<uint64_t> generator_route_requests(const WorkloadOptions& w, const WorkloadTotals& t);
// "" when every route's observed count lies in [generator, generator + in_flight], else why not.
std::string check_route_counts(const std::string& who, const std::vector<uint64_t>& observed,
                               const std::vector<uint64_t>& generator, uint64_t in_flight,
                               const std::vector<std::string>& routes);

}  // namespace pb

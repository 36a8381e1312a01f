// SPDX-License-Identifier: Apache-2.0
// workloads/workload.h: what a workload is (neper's vocabulary) and what a run of one returns.
// A workload is a small table of traits plus a run function over a shared controller
// (workloads/controller.h): client threads in the client role, a responder or sink in the
// server role, warm-up and cool-down cut, progress watched.
//
// Everything else in pathbench decides by these traits, never by a workload's name: the
// responder follows `pattern` and `protocol`, proofs follow `protocol`, the report's primary
// metric is `primary_metric` (run.json carries this catalogue; analysis reads it from there).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/registry.h"
#include "kernel/sockets.h"

namespace pb {

class Roles;
struct WorkloadInfo;
namespace workload {
class ServerSide;
struct Phases;
}  // namespace workload

enum class Protocol { kTcp, kUdp };
enum class Transport { kSocket, kFrames };  // frames: raw frames injected below the socket layer
enum class Pattern { kStream, kRr, kCrr, kPps };
// What the payload is: opaque bytes, or HTTP/1.1 requests and responses (an L7 gateway can carry
// only the latter; the responder answers in the same application protocol).
enum class Application { kNone, kHttp };
const char* to_string(Protocol p);
const char* to_string(Transport t);
const char* to_string(Pattern p);
const char* to_string(Application a);
NLOHMANN_JSON_SERIALIZE_ENUM(Protocol, {{Protocol::kTcp, "tcp"}, {Protocol::kUdp, "udp"}})

// The resolved options of one workload run. The workload itself is its descriptor (WorkloadInfo),
// passed beside the options wherever a decision depends on it: nothing looks a workload up by name
// except where a name arrives from outside (the CLI, the agent protocol).
struct WorkloadOptions {
  uint32_t payload_bytes = 0;     // request (rr/crr), write size (stream), datagram payload (pps)
  uint32_t response_bytes = 0;    // rr/crr response
  uint32_t flows = 1;             // concurrent flows (one thread each)
  double duration_s = 2;          // measured window
  double warmup_s = 0.5;          // cut before
  double cooldown_s = 0.2;        // cut after
  uint64_t rate_pps = 0;          // pps patterns: 0 = as fast as possible
  uint16_t port = 0;              // server port for this workload
  double stall_timeout_s = 2;     // watchdog: no progress for this long = failed
  int client_cpu = -1;            // pinning (-1: none)
  int server_cpu = -1;
  std::string tcp_cc;             // congestion control of every TCP socket the workload makes
  int tcp_buffer_bytes = 0;       // fixed SO_SNDBUF/SO_RCVBUF of every TCP socket (0: autotuning)
  std::string responder = "thread";  // the server side: "thread" of this process | "process" (forked)
  // Open loop (workloads with WorkloadInfo::open_loop): requests/s over all flows, each request on
  // a schedule fixed in advance and its latency from when it was due; 0 = closed loop.
  double rate_rps = 0;
  // http workloads: "METHOD /path" requests cycle over (workloads/http_wire.h parse_route);
  // empty for every other workload.
  std::vector<std::string> http_routes;
  bool operator==(const WorkloadOptions&) const = default;
};
// run.json's workload_options and the agent protocol: every field, by its own name.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(WorkloadOptions, payload_bytes, response_bytes, flows, duration_s,
                                                warmup_s, cooldown_s, rate_pps, port, stall_timeout_s, client_cpu,
                                                server_cpu, tcp_cc, tcp_buffer_bytes, responder, rate_rps,
                                                http_routes)

// Counts over the whole workload run, warm-up and cool-down included; proofs compare them with
// path counters, which cannot be cut to the measured window.
struct WorkloadTotals {
  uint64_t transactions = 0;      // rr/crr transactions completed
  uint64_t connections = 0;       // TCP connections the client opened
  uint64_t bytes_sent = 0;        // payload bytes, client -> server
  uint64_t packets_sent = 0;      // UDP datagrams / injected frames the client sent
  uint64_t packets_received = 0;  // ... and the server received
  // Of `connections`, those opened and closed on purpose without a request (wrk's check that the
  // address answers, one per wrk run): an L7 gateway relays them as plain TCP.
  uint64_t idle_connections = 0;
  // HTTP workloads: requests completed per route (the order of --http-routes), warm-up included:
  // what an observer on the path must have counted (paths/observer.h). Empty: not per route.
  std::vector<uint64_t> http_route_requests;
  bool operator==(const WorkloadTotals&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(WorkloadTotals, transactions, connections, bytes_sent, packets_sent,
                                                packets_received, idle_connections, http_route_requests)

struct WorkloadResult {
  bool ok = false;
  std::string reason;      // when !ok
  nlohmann::json metrics;  // see results/README.md
  WorkloadTotals totals;
  bool operator==(const WorkloadResult&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(WorkloadResult, ok, reason, metrics, totals)

struct WorkloadContext {
  const WorkloadInfo& workload;    // what runs: its traits decide the load, responder and metrics
  const Roles& roles;
  Endpoint target;                 // where the client sends (the path may redirect)
  Endpoint server_bind;            // where the responder listens (in the server role)
  const std::atomic<int>* interrupted = nullptr;  // non-zero: stop now (signal number)
  // Where the server side runs; unset: a Responder in the server role, in this process. Hosts
  // mode sets it on the client host's agent to the server host's responder.
  std::function<std::unique_ptr<workload::ServerSide>(const WorkloadInfo&, const WorkloadOptions&, const Endpoint&,
                                                      workload::Phases&)>
      server_side;
};

struct WorkloadInfo {
  std::string name;
  std::string description;
  int order = 100;                 // display order (catalogue, lists, report)
  Protocol protocol = Protocol::kTcp;
  Transport transport = Transport::kSocket;
  Pattern pattern = Pattern::kStream;
  Application application = Application::kNone;
  std::string primary_metric;      // metrics key: throughput_bps | transactions_per_s | packets_per_s
  std::string cpu_metric;          // cpu_ns_per_byte | cpu_ns_per_transaction | cpu_ns_per_packet
  uint32_t default_payload = 1;
  uint32_t min_payload = 1;        // udp_rr: 8 (the sequence number)
  std::string min_payload_why;     // said when a payload is below min_payload
  uint32_t max_payload = 65507;
  // The response size without --response-bytes; unset: the request's (payload) size.
  std::optional<uint32_t> default_response;
  bool open_loop = false;          // takes --rate-rps (rr/crr over TCP: one request in flight per flow)
  bool in_default_suite = true;
  // Reason this machine cannot run it, or nullopt. Cheap and side-effect free.
  std::function<std::optional<std::string>()> unsupported;
  // Runs the workload; ctx.workload is this descriptor.
  std::function<WorkloadResult(const WorkloadContext&, const WorkloadOptions&)> run;

  bool request_response() const { return pattern == Pattern::kRr || pattern == Pattern::kCrr; }
  bool has_latency() const { return request_response(); }
  nlohmann::json catalogue_json() const;
};

// Registry: every workload registers itself from its own source file (PB_REGISTER_WORKLOAD);
// all_workloads() is sorted by `order`.
inline const std::vector<WorkloadInfo>& all_workloads() { return Registry<WorkloadInfo>::all(); }
inline const WorkloadInfo* find_workload(const std::string& name) { return Registry<WorkloadInfo>::find(name); }
#define PB_REGISTER_WORKLOAD(...) PB_REGISTER(::pb::WorkloadInfo, __VA_ARGS__)

}  // namespace pb

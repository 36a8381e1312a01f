// workload.h: what a workload is (neper vocabulary) and what a run of one returns.
// A workload is a function over a shared context: client threads in the client namespace,
// responders in the server namespace, a controller that cuts warm-up and cool-down and watches
// progress. See bench/workloads/ for the socket generators.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace pb {

class Topology;

struct Endpoint {
  std::string ip;
  uint16_t port = 0;
};

struct WorkloadOptions {
  std::string name;               // tcp_stream | tcp_rr | tcp_crr | udp_rr | udp_pps | xdp_pps
  uint32_t payload_bytes = 0;     // request (rr/crr), write size (stream), datagram payload (pps)
  uint32_t response_bytes = 0;    // rr/crr response
  uint32_t flows = 1;             // concurrent flows (connections / UDP sockets)
  uint32_t threads = 1;           // client threads (flows spread over them)
  double duration_s = 2;          // measured window
  double warmup_s = 0.5;          // cut before
  double cooldown_s = 0.2;        // cut after
  uint64_t rate_pps = 0;          // udp_pps / xdp_pps: 0 = as fast as possible
  uint16_t port = 0;              // server port for this workload
  double stall_timeout_s = 2;     // watchdog: no progress for this long = failed
  int client_cpu = -1;            // pinning (-1: none)
  int server_cpu = -1;
  nlohmann::json to_json() const;
};

// Counts over the whole workload run, warm-up and cool-down included; proofs compare them with
// path counters, which cannot be cut to the measured window.
struct WorkloadTotals {
  uint64_t transactions = 0;      // rr/crr transactions completed
  uint64_t connections = 0;       // TCP connections the client opened
  uint64_t bytes_sent = 0;        // payload bytes, client -> server
  uint64_t packets_sent = 0;      // UDP datagrams / injected frames the client sent
  uint64_t packets_received = 0;  // ... and the server received
  nlohmann::json to_json() const;
};

struct WorkloadResult {
  bool ok = false;
  std::string reason;      // when !ok
  nlohmann::json metrics;  // see results/README.md
  WorkloadTotals totals;
};

struct WorkloadContext {
  const Topology& topo;
  Endpoint target;                 // where the client sends (the path may redirect)
  Endpoint server_bind;            // where the responder listens (in the server namespace)
  const std::atomic<int>* interrupted = nullptr;  // non-zero: stop now (signal number)
};

struct WorkloadInfo {
  std::string name;
  std::string description;
  bool tcp = false;                // TCP (true) or UDP/raw (false)
  uint32_t default_payload = 1;
  uint32_t max_payload = 65507;
  bool in_default_suite = true;
  // Reason this machine cannot run it, or nullopt.
  std::function<std::optional<std::string>()> unsupported;
  std::function<WorkloadResult(const WorkloadContext&, const WorkloadOptions&)> run;
};

const std::vector<WorkloadInfo>& all_workloads();
const WorkloadInfo* find_workload(const std::string& name);

// Registration hooks, one per source file that defines workloads.
void add_socket_workloads(std::vector<WorkloadInfo>& v);  // bench/workloads/socket.cpp
void add_xdp_workloads(std::vector<WorkloadInfo>& v);     // bench/workloads/xdp_pps.cpp

}  // namespace pb

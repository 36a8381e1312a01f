// runner.h: `pathbench run`: owns the topology for the run's length, walks the interleaved
// schedule (for each repetition, every path in turn, every workload through it), proves each
// path with counters and a libpcap probe, and keeps run.json current after every path.
#pragma once
#include <atomic>
#include <nlohmann/json.hpp>

#include "core/config.h"

namespace pb {

class Topology;
class PathInstance;

// Set by the signal thread: the signal number that asked the run to stop (0: none).
extern std::atomic<int> g_interrupted;

// Returns the process exit code (0, 1 when a result failed, 130/143 when interrupted).
int run_benchmark(const RunConfig& cfg);

// The proof probe: a few UDP datagrams and TCP connections through the path, captured with
// libpcap on both end veths; checks what the server saw (source, destination, TTL).
nlohmann::json pcap_probe(const Topology& topo, const PathInstance& path, uint16_t udp_port,
                          uint16_t tcp_port);

// The run's CPU placement, as recorded in environment.cpu_pinning; paths that start threads (the
// proxy) pin them to "proxy_cpu" when it is a number.
nlohmann::json pinning_json(const RunConfig& cfg);

// Prints the human summary of a finished run document.
void print_summary(const nlohmann::json& run);

}  // namespace pb

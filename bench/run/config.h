// SPDX-License-Identifier: Apache-2.0
// run/config.h: the resolved options of one run. run.json's "options" (RunConfig::to_json) echoes
// every field that decides what is measured, so a run can be reproduced from its file; not echoed
// are where its file goes (out_parent, latest_link: `out` is the resolved directory), and
// match_position and update_samples without --services (they mean nothing then).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace pb {

struct WorkloadInfo;
struct WorkloadOptions;

struct AdaptiveOptions {
  double target_ci_pct = 0;   // > 0: repeat until every primary metric's 95% CI half-width is below this
  double budget_s = 600;      // ... or this much time has passed
  unsigned max_repetitions = 40;
};

struct RunConfig {
  std::vector<std::string> paths;      // resolved names, catalogue order
  std::vector<std::string> workloads;  // resolved names, catalogue order
  double duration_s = 2;
  double warmup_s = 0.5;
  double cooldown_s = 0.2;
  unsigned repetitions = 3;            // adaptive: the minimum
  AdaptiveOptions adaptive;
  // Sweep axes: every combination is a trial (run/schedule.h). Empty payload list: each
  // workload's default payload.
  std::vector<uint32_t> payload_bytes;
  std::optional<uint32_t> response_bytes;  // rr/crr response (default: = request)
  std::vector<uint32_t> flows = {1};
  std::vector<uint64_t> services;          // intercepting paths: N services each; empty: not swept
  std::string match_position = "last";     // first | middle | last
  uint32_t update_samples = 30;            // services: timed add/remove cycles per instance
  // --gateway: what terminates TCP on paths that take a gateway (PathInfo::takes_gateway), a sweep
  // axis: "none" (pathbench's L4 proxy) | "haproxy" (paths/gateway.h). Empty: not swept (none).
  std::vector<std::string> gateways;
  // --observe: who counts the API calls (paths/observer.h), a sweep axis on the paths that take an
  // observer (takes_observer). Empty: not swept (none).
  std::vector<std::string> observes;
  uint64_t rate_pps = 0;
  double rate_rps = 0;                     // open loop (workloads that take it): requests/s; 0 = closed loop
  std::vector<std::string> http_routes;    // http workloads: "METHOD /path" cycled over (resolved: never empty)
  double stall_timeout_s = 2;
  std::string pinning = "one-cpu";         // resolved: one-cpu | split | none
  std::string tcp_cc = "cubic";            // every TCP socket pathbench makes ("" = namespace default)
  int tcp_buffer_bytes = 1 << 20;          // fixed socket buffers of every TCP socket (0: autotuning)
  std::string responder = "thread";        // the server side: a thread of pathbench | a process of its own
  std::string order = "interleaved";       // interleaved | shuffled (paths' order per repetition)
  uint64_t seed = 0;                       // shuffled: the order's seed (recorded)
  unsigned proxy_workers = 1;
  std::vector<int> proxy_cpus;             // empty: the pinning policy's proxy CPU
  unsigned proxy_pipe_bytes = 0;           // 0: the proxy's default (1 MiB)
  std::string proxy_model = "thread";      // the proxy's workers: threads of pathbench | a process of their own
  std::string bpf_stats = "sample";        // sample | off | always
  std::string tc_attach = "auto";          // auto | clsact
  uint64_t kernel_profile_ns = 0;          // sample kernel functions every N ns of CPU time (0: off)
  // Calibrated slowdown per packet at the DUT (run/calibration.h); 0 attaches the same program
  // spinning no loops: the control a calibrated run is compared with (the hook costs something too).
  std::optional<double> inject_cost_ns;
  std::string out_dir;                     // resolved results directory
  std::string out_parent = "results";
  std::string latest_link;
  std::string run_id;                      // also in namespace names
  bool proof_capture = true;               // libpcap proof probe per path instance
  bool peers = false;                      // also measure with iperf3 / sockperf / wrk (reference rows)
  std::string hosts_file;                  // --hosts: roles on three hosts over ssh (hosts/)
  bool verbose = false;
  nlohmann::json to_json() const;
};

// What of a trial's options depends on its workload (the schedule calls it for each): the
// response size's default, and the open-loop rate and the http routes, set only on the workloads
// they apply to (an option recorded where it was not applied would read as applied).
WorkloadOptions for_workload(const RunConfig& cfg, const WorkloadInfo& w, WorkloadOptions o);

}  // namespace pb

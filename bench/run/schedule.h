// SPDX-License-Identifier: Apache-2.0
// run/schedule.h: the schedule as data. Every (repetition, path + path parameters, workload +
// workload parameters, generator) is one trial, built up front; trials sharing repetition, path
// and path parameters run through one path instance on one fresh topology. Within a
// repetition every (path, parameters) is visited once, in catalogue order or shuffled, so slow
// drifts of a shared machine hit every configuration alike; list-valued parameters (payload,
// flows, services) cost nothing but the trials they add.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "paths/path.h"
#include "run/config.h"
#include "workloads/workload.h"

namespace pb {

struct Trial {
  unsigned repetition = 0;
  const WorkloadInfo* workload = nullptr;  // the registry's descriptor (never null in a schedule)
  WorkloadOptions options;  // resolved: payload, flows, timing, port, CPUs, congestion control
  std::string reference;    // "" = pathbench's own generator; else a reference tool's name
  bool own_load = true;     // the load is pathbench's generator (also for HAProxy-as-proxy rows)
};

// One path instance and the trials it carries.
struct InstancePlan {
  unsigned repetition = 0;
  std::string path;
  PathSettings settings;          // the run's proxy/stack settings + this instance's parameters
  bool haproxy = false;           // peers mode: HAProxy stands in for pathbench's proxy
  std::vector<Trial> trials;
};

// The instances of one repetition, in the order they run. With --order shuffled the order is
// drawn from cfg.seed + rep, so a repetition's order depends on its number alone (recorded seed,
// reproducible, the same whichever repetitions ran before it).
std::vector<InstancePlan> schedule_repetition(const RunConfig& cfg, unsigned rep);

// Every instance of a fixed-length run (cfg.repetitions repetitions): the runner's progress total
// and the schedule's tests.
std::vector<InstancePlan> full_schedule(const RunConfig& cfg);

// CPU placement of the run's threads (environment.cpu_pinning): -1 = left to the scheduler.
struct Placement {
  int generator_cpu = -1, responder_cpu = -1, proxy_cpu = -1;
};
Placement placement(const std::string& policy);
nlohmann::json pinning_json(const std::string& policy);

// Server ports: workloads from 5201 (in catalogue order), reference tools 100 above, the proof
// probe 5501/5502; with --services everything uses the one service port.
constexpr uint16_t kBasePort = 5201;
constexpr uint16_t kProbeUdpPort = 5501, kProbeTcpPort = 5502;

}  // namespace pb

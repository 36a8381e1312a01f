// SPDX-License-Identifier: Apache-2.0
// run/trial.h: one trial, run the one way every row of run.json is made — pathbench's own
// generators and the reference tools alike:
//   skipped? -> target (the path may redirect) -> path.begin -> generator -> path.end (proof)
//   -> pcap verdict -> status and reason.
#pragma once
#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "peers/tools.h"
#include "run/schedule.h"

namespace pb {

class PathInstance;
class Roles;

// What makes a trial's load: pathbench's workload, or a reference tool mirroring it.
struct Generator {
  std::string tool;                                      // "" = pathbench
  bool reports_connections = true;                       // can a proxy's counters be checked against it?
  std::function<std::optional<std::string>()> unavailable;
  std::function<PeerRun(const WorkloadContext&, const WorkloadOptions&)> run;
};
Generator generator_for(const Trial& t, const WorkloadInfo& w);

// The row's skeleton: path, workload, repetition, order, status, reason, start time.
nlohmann::json result_entry(const std::string& path, const std::string& workload, unsigned rep, unsigned order,
                            const std::string& status, const std::string& reason);

struct TrialContext {
  const Roles& roles;
  PathInstance& path;
  const nlohmann::json& path_options;
  unsigned instance_index;
  const nlohmann::json* probe;           // the instance's pcap verdict, or null without capture
  const std::atomic<int>* interrupted;
  // The site's generator (run/site.h); null: the trial's own (generator_for).
  const Generator* generator = nullptr;
};

// Runs one trial through a built path instance; returns its row (status ok | skipped | failed).
nlohmann::json run_trial(const TrialContext& ctx, const Trial& t, const std::string& path_name, unsigned order);

}  // namespace pb

// SPDX-License-Identifier: Apache-2.0
// run/runner.h: `pathbench run`, the one runner over a site (run/site.h): walks the schedule
// (run/schedule.h) one repetition at a time; for each path instance has the site build it, runs
// its proof probe and its trials (run/trial.h), tears it down and records what it installed,
// keeping run.json (run/document.h) current after every instance. With --until-ci-pct it repeats
// until every primary metric's 95% interval is narrow enough or the budget is spent, and records
// why it stopped. Namespaces on this machine and agents on three hosts run through the same code:
// every option means the same in both (hosts/orchestrator.h says the one it refuses, and why).
#pragma once
#include <atomic>
#include <nlohmann/json.hpp>

#include "run/config.h"
#include "run/document.h"

namespace pb {

class Site;

// Set by the signal thread: the signal number that asked the run to stop (0: none).
extern std::atomic<int> g_interrupted;

// The process-wide BPF settings of a run (--bpf-stats, --tc-attach, --kernel-profile-ns), here and
// on every agent.
void apply_bpf_settings(const std::string& bpf_stats, const std::string& tc_attach, uint64_t kernel_profile_ns);

// Runs cfg on the site; returns the process exit code (0, 1 when a result failed, 130/143 when
// interrupted). Throws Error when the site fails as a whole (after saving run.json as failed).
int run_benchmark(const RunConfig& cfg, Site& site);
// The same on network namespaces of this machine (run/netns_site.h).
int run_benchmark(const RunConfig& cfg);

}  // namespace pb

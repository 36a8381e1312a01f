// SPDX-License-Identifier: Apache-2.0
// run/runner.h: `pathbench run`: walks the schedule (run/schedule.h) one repetition at a time;
// for each path instance builds a fresh topology, the path, its proof probe, runs its trials
// (run/trial.h), tears it down and records what it installed; keeps run.json current after
// every instance. With --until-ci-pct it repeats until every primary metric's 95% interval is
// narrow enough or the budget is spent, and records why it stopped.
#pragma once
#include <atomic>
#include <nlohmann/json.hpp>

#include "run/config.h"

namespace pb {

// Set by the signal thread: the signal number that asked the run to stop (0: none).
extern std::atomic<int> g_interrupted;

// Returns the process exit code (0, 1 when a result failed, 130/143 when interrupted).
int run_benchmark(const RunConfig& cfg);

// run.json's catalogue: every path and workload this build knows, with its traits.
nlohmann::json catalogue_json();

}  // namespace pb

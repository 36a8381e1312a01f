// SPDX-License-Identifier: Apache-2.0
// hosts/orchestrator.h: `pathbench run --hosts FILE`: the same schedule, trials (run/trial.h),
// proofs and run.json as the namespace mode, with client, DUT and server on three hosts, each
// driven through its agent over ssh (hosts/ssh.h, hosts/agent.h).
//
//   orchestrator ──ssh──▶ agent (client): generator, client half of the proof probe
//                ──ssh──▶ agent (dut):    the path (its undo log), its counters and proof
//                ──ssh──▶ agent (server): responder, server half of the proof probe (pcap)
//
// Order of a run: every host connected, hello (version and BPF objects equal to ours, root),
// check (interfaces, addresses, routes, nothing unsafe), and only then anything installed. The
// server's responder counters reach the client's controller through the orchestrator (asks),
// so the receiver-side metrics are the namespace mode's own code.
#pragma once
#include <string>

#include "hosts/hosts_file.h"
#include "run/config.h"

namespace pb {

// Returns the process exit code, like run_benchmark (run/runner.h); throws Error (20-28) for bad
// input found before anything was changed.
int run_hosts_benchmark(const RunConfig& cfg, const HostsConfig& hosts);

// `pathbench cleanup --hosts FILE`: on each host, ends agents of earlier runs still alive (each
// removes what it installed); prints what it found. Exit 0 when every host answered.
int cleanup_hosts(const HostsConfig& hosts);

}  // namespace pb

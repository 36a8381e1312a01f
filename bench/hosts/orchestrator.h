// SPDX-License-Identifier: Apache-2.0
// hosts/orchestrator.h: `pathbench run --hosts FILE`: the roles on three hosts, each driven through
// its agent over ssh (hosts/ssh.h, hosts/agent.h) — a Site (run/site.h) the one runner drives, so
// the schedule, trials, proofs, stop rules and run.json are the namespace mode's own code.
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
#include <memory>
#include <string>

#include "hosts/hosts_file.h"
#include "run/config.h"
#include "run/site.h"

namespace pb {

// Connects to every host, starts and checks its agent; throws Error (20-28) for bad input found
// before anything was changed on any host.
std::unique_ptr<Site> make_hosts_site(const RunConfig& cfg, const HostsConfig& hosts);

// What a run with --hosts cannot do, and why (one place): nullopt when every option in cfg works
// with --hosts. Checked with the options, before anything is made.
std::optional<std::string> hosts_mode_refuses(const RunConfig& cfg);

// `pathbench cleanup --hosts FILE`: on each host, ends agents of earlier runs still alive (each
// removes what it installed); prints what it found. Exit 0 when every host answered.
int cleanup_hosts(const HostsConfig& hosts);

}  // namespace pb

// SPDX-License-Identifier: Apache-2.0
// hosts/agent.h: `pathbench agent --role R --run-id ID`, started by the orchestrator over ssh on
// each host (hosts/ssh.h), driven by the line protocol (hosts/protocol.h) on stdin/stdout; its
// log goes to stderr. It runs the same path, workload and proof code as the namespace mode, over a
// Roles (HostRoles) whose role namespace is the host's own and whose wiring comes from the hosts
// file.
//
// Faults: stdin's EOF (ssh dropped, orchestrator killed, SIGKILL included) or SIGHUP/SIGTERM/
// SIGINT interrupts the running operation (a workload stops within its 50 ms poll) and removes
// everything the agent installed — path (undo log), responder, probe — then exits.
// `pathbench agent --cleanup` (run by `pathbench cleanup --hosts`) ends agents of earlier runs
// left on the host and reports what it found.
#pragma once
#include <string>
#include <vector>

namespace pb {

int cmd_agent(const std::vector<std::string>& args);

}  // namespace pb

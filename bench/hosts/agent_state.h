// SPDX-License-Identifier: Apache-2.0
// hosts/agent_state.h: an agent's record on its host, /run/pathbench/agent-<id>-<role>.json: its
// owner (pid, start time, network namespace) and the path's pending undo commands, so
// `pathbench agent --cleanup` (run by `pathbench cleanup --hosts`) can end an agent still alive or
// finish one that died without tearing down.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace pb {

class AgentRecord {
 public:
  AgentRecord(std::string role, std::string run_id);
  ~AgentRecord();  // removes the record (the agent tore down itself)
  AgentRecord(const AgentRecord&) = delete;
  AgentRecord& operator=(const AgentRecord&) = delete;
  // Rewrites the record with these pending undo commands (logs, never throws).
  void save(const nlohmann::json& undo);

 private:
  std::string role_, run_id_, file_;
};

// `pathbench agent --cleanup`: agents of earlier runs still alive on this host are told to stop
// (SIGTERM: each removes what it installed) and waited for; a dead one's journaled undo commands
// are run; their records go. Prints what it found as one JSON line.
int agent_cleanup();

}  // namespace pb

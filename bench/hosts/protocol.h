// SPDX-License-Identifier: Apache-2.0
// hosts/protocol.h: the agent's line protocol (docs/hosts.md "The agent protocol"): one JSON
// object per line on the agent's stdin (requests, answers) and stdout (replies, asks), and the
// roles as an agent sees them. The orchestrator and every agent are the same binary, so both ends
// use the same serializers.
//
//   request  {"id": 7, "op": "path_begin", ...}        orchestrator -> agent
//   reply    {"id": 7, "ok": true, ...}                agent -> orchestrator
//            {"id": 7, "ok": false, "error": "one line", "code": 25}
//   ask      {"ask": "server", "op": "responder_sync"}  agent -> orchestrator, during a request
//   answer   {"answer": {...}}                          orchestrator -> agent
//   interrupt {"op": "interrupt", "signal": 2}          orchestrator -> agent, at any time
#pragma once
#include <nlohmann/json.hpp>

#include "kernel/sockets.h"
#include "paths/path.h"
#include "roles/roles.h"
#include "workloads/workload.h"

namespace pb {

// 2: workloads travel as {workload, options}, path_target as {protocol, server}; every struct in
// its one serialized form (nlohmann's macros beside each struct: Wiring, Endpoint, PathSettings,
// WorkloadOptions, WorkloadTotals, WorkloadResult, CaptureSummary, ProbeClientResult).
constexpr int kAgentProtocol = 2;

// The roles as one host's agent sees them: every role's namespace is the host's own (""), only
// `here` is local (the others are on other hosts); the orchestrator passes here = "" (none).
class HostRoles : public Roles {
 public:
  HostRoles(const std::string& here, Wiring w, nlohmann::json hosts);
  const Role& client() const override { return client_; }
  const Role& dut() const override { return dut_; }
  const Role& server() const override { return server_; }
  const Wiring& wiring() const override { return wiring_; }
  nlohmann::json describe() const override;

 private:
  Role client_, dut_, server_;
  Wiring wiring_;
  nlohmann::json hosts_;  // role -> ssh destination
};

}  // namespace pb

// SPDX-License-Identifier: Apache-2.0
// hosts/agent_io.h: the agent's two ends of the line protocol (hosts/protocol.h). stdin is read by
// a thread of its own: lines are queued for the operation that waits for them (the agent's loop,
// or an ask waiting for its answer), an interrupt from the orchestrator is acted on at once, and
// EOF (ssh dropped, orchestrator killed) interrupts whatever runs so the agent can tear down and
// leave. stdout carries nothing but protocol lines (the log goes to stderr).
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace pb {

// Set when the interrupt came from the orchestrator (the agent then keeps serving its teardown
// requests); a signal to the agent itself makes it tear down and leave.
extern std::atomic<bool> g_orchestrator_interrupt;

class AgentInput {
 public:
  AgentInput();  // starts the reader thread (detached: it ends with the process)
  // The next line, or nullopt after timeout_s with nothing; *eof when stdin has ended and every
  // line was taken.
  std::optional<std::string> next(double timeout_s, bool* eof);

 private:
  void loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> q_;
  bool eof_ = false;
};

// One protocol line to stdout (serialized across threads); a failed write interrupts the agent.
void agent_emit(const nlohmann::json& j);

}  // namespace pb

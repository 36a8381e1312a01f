// SPDX-License-Identifier: Apache-2.0
#include "hosts/agent_io.h"

#include <signal.h>

#include <cstdio>
#include <iostream>
#include <thread>

#include "common/log.h"
#include "run/runner.h"

namespace pb {

std::atomic<bool> g_orchestrator_interrupt{false};

AgentInput::AgentInput() {
  std::thread([this] { loop(); }).detach();
}

std::optional<std::string> AgentInput::next(double timeout_s, bool* eof) {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, std::chrono::duration<double>(timeout_s), [&] { return !q_.empty() || eof_; });
  *eof = eof_ && q_.empty();
  if (q_.empty()) return std::nullopt;
  std::string l = std::move(q_.front());
  q_.pop_front();
  return l;
}

void AgentInput::loop() {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find("\"interrupt\"") != std::string::npos) {
      try {
        auto j = nlohmann::json::parse(line);
        if (j.value("op", "") == "interrupt") {
          int expected = 0;
          g_orchestrator_interrupt = true;
          g_interrupted.compare_exchange_strong(expected, j.value("signal", SIGINT));
          log::warn("interrupted by the orchestrator (signal {})", j.value("signal", SIGINT));
          continue;
        }
      } catch (const std::exception&) {
      }
    }
    std::lock_guard lk(mu_);
    q_.push_back(line);
    cv_.notify_all();
  }
  int expected = 0;
  g_interrupted.compare_exchange_strong(expected, SIGHUP);
  std::lock_guard lk(mu_);
  eof_ = true;
  cv_.notify_all();
}

namespace {
std::mutex g_out_mu;
}

void agent_emit(const nlohmann::json& j) {
  std::lock_guard lk(g_out_mu);
  const std::string s = j.dump() + "\n";
  if (fwrite(s.data(), 1, s.size(), stdout) != s.size() || fflush(stdout) != 0) {
    int expected = 0;
    g_interrupted.compare_exchange_strong(expected, SIGPIPE);
  }
}

}  // namespace pb

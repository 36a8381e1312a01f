// SPDX-License-Identifier: Apache-2.0
#include "kernel/undo.h"

#include <map>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "common/strings.h"
#include "kernel/netns.h"
#include "kernel/process.h"

namespace pb {

const char* item_key(Item i) {
  switch (i) {
    case Item::kNftTable: return "nft_tables";
    case Item::kNftChain: return "nft_chains";
    case Item::kNftRule: return "nft_rules";
    case Item::kNftSet: return "nft_sets";
    case Item::kNftSetElement: return "nft_set_elements";
    case Item::kIptablesChain: return "iptables_chains";
    case Item::kIptablesRule: return "iptables_rules";
    case Item::kRoute: return "routes";
    case Item::kPolicyRule: return "policy_rules";
    case Item::kBpfProgram: return "bpf_programs";
    case Item::kBpfMap: return "bpf_maps";
    case Item::kBpfMapEntry: return "bpf_map_entries";
    case Item::kBpfLink: return "bpf_links";
    case Item::kTcHook: return "tc_hooks";
    case Item::kSysctl: return "sysctls";
    case Item::kOffloadChange: return "ethtool_changes";
    case Item::kThread: return "threads";
    case Item::kProcess: return "processes";
  }
  return "?";
}

UndoLog::UndoLog(std::string netns) : ns_(std::move(netns)), t0_(mono_ns()) {}

UndoLog::~UndoLog() { undo_all(); }

void UndoLog::push(Step s) {
  torn_down_ = false;
  steps_.push_back(std::move(s));
}

void UndoLog::command(const std::string& what, std::vector<Installed> installed, const std::vector<std::string>& argv,
                      const std::vector<std::string>& undo_argv, const std::string& stdin_text,
                      const std::string& undo_stdin, int timeout_s) {
  try {
    run_cmd_checked(in_netns(ns_, argv), stdin_text, timeout_s);
  } catch (const Error& e) {
    throw EnvError(what + " in " + (ns_.empty() ? "this namespace" : ns_) + ": " + e.what());
  }
  log::debug("{}: {}", ns_, what);
  push({what, std::move(installed), 0, true, undo_argv, undo_stdin, {}});
}

void UndoLog::undo_command(const std::string& what, const std::vector<std::string>& undo_argv) {
  push({what, {}, 0, false, undo_argv, {}, {}});
}

void UndoLog::note(const std::string& what, std::vector<Installed> installed, uint64_t calls,
                   std::function<void()> undo) {
  push({what, std::move(installed), calls, false, {}, {}, std::move(undo)});
}

nlohmann::json UndoLog::pending_commands() const {
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = steps_.size() - undone_; i-- > 0;)
    if (!steps_[i].undo_argv.empty())
      out.push_back({{"argv", in_netns(ns_, steps_[i].undo_argv)}, {"stdin", steps_[i].undo_stdin}});
  return out;
}

void UndoLog::setup_done() { setup_ns_ = mono_ns() - t0_; }

void UndoLog::undo_all() noexcept {
  if (torn_down_) return;
  const uint64_t t = mono_ns();
  while (undone_ < steps_.size()) {
    Step& s = steps_[steps_.size() - 1 - undone_];
    ++undone_;
    try {
      if (!s.undo_argv.empty()) {
        CmdResult r = run_cmd(in_netns(ns_, s.undo_argv), s.undo_stdin);
        if (r.status != 0)
          log::error("{}: undo '{}' ({}) failed: {}", ns_, s.what, join(s.undo_argv, " "), trim(r.err));
        else
          log::debug("{}: undone: {}", ns_, s.what);
      }
      if (s.undo_fn) {
        auto fn = std::move(s.undo_fn);
        s.undo_fn = nullptr;
        fn();
      }
    } catch (const std::exception& e) {
      log::error("{}: undo '{}': {}", ns_, s.what, e.what());
    }
  }
  teardown_ns_ += mono_ns() - t;
  torn_down_ = true;
}

nlohmann::json UndoLog::configuration() const {
  std::map<std::string, uint64_t> counts;
  uint64_t commands = 0, calls = 0;
  nlohmann::json steps = nlohmann::json::array();
  for (auto& s : steps_) {
    nlohmann::json inst = nlohmann::json::object();
    for (auto& i : s.installed) {
      counts[item_key(i.item)] += i.count;
      inst[item_key(i.item)] = inst.value(item_key(i.item), uint64_t{0}) + i.count;
    }
    if (s.installed.empty() && !s.command && s.calls == 0) continue;  // teardown-only registration
    if (s.command) ++commands;
    calls += s.calls;
    nlohmann::json step = {{"what", s.what}, {"how", s.command ? "command" : "in-process"}, {"installed", inst}};
    if (!s.command) step["calls"] = s.calls;
    steps.push_back(step);
  }
  nlohmann::json c = nlohmann::json::object();
  for (auto& [k, v] : counts) c[k] = v;
  return {{"counts", c},
          {"commands", commands},
          {"calls", calls},
          {"setup_ns", setup_ns_},
          {"teardown_ns", torn_down_ ? nlohmann::json(teardown_ns_) : nlohmann::json(nullptr)},
          {"steps", steps}};
}

}  // namespace pb

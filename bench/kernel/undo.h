// SPDX-License-Identifier: Apache-2.0
// kernel/undo.h: the undo log of one path instance — every piece of kernel state it installs
// (nft tables and rules, iptables rules, routes, policy rules, BPF programs, maps, links,
// offload changes) and every thread it starts (the proxy), in the order made, undone in reverse
// at teardown. Each step says what it installed, so the same log is the record of
// configuration effort in run.json (path_instances[].configuration): counts by kind, external
// commands versus in-process kernel calls, setup and teardown time. Nothing is counted by hand
// elsewhere: what is not in the log was not installed.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pb {

// What a step installed (run.json keys in brackets).
enum class Item {
  kNftTable,        // [nft_tables]
  kNftChain,        // [nft_chains]
  kNftRule,         // [nft_rules]
  kNftSet,          // [nft_sets]        a set or verdict map
  kNftSetElement,   // [nft_set_elements]
  kIptablesChain,   // [iptables_chains]
  kIptablesRule,    // [iptables_rules]
  kRoute,           // [routes]
  kPolicyRule,      // [policy_rules]
  kBpfProgram,      // [bpf_programs]
  kBpfMap,          // [bpf_maps]
  kBpfMapEntry,     // [bpf_map_entries]
  kBpfLink,         // [bpf_links]       bpf_link attachments (XDP, TCX, netns)
  kTcHook,          // [tc_hooks]        clsact qdisc + filter (kernels without TCX)
  kSysctl,          // [sysctls]
  kOffloadChange,   // [ethtool_changes]
  kThread,          // [threads]         user-space workers (the proxy)
  kProcess,         // [processes]       helper processes (HAProxy)
};
const char* item_key(Item i);

struct Installed {
  Item item;
  uint64_t count = 1;
};

class UndoLog {
 public:
  explicit UndoLog(std::string netns);  // commands run inside this namespace ("" = ours)
  ~UndoLog();                            // undo_all()
  UndoLog(const UndoLog&) = delete;
  UndoLog& operator=(const UndoLog&) = delete;

  // Runs argv now (throws EnvError naming `what` and the namespace on failure) and remembers
  // undo_argv for teardown.
  void command(const std::string& what, std::vector<Installed> installed, const std::vector<std::string>& argv,
               const std::vector<std::string>& undo_argv, const std::string& stdin_text = {},
               const std::string& undo_stdin = {}, int timeout_s = 30);
  // Registers a command for teardown only (something a tool creates implicitly, e.g. the nft
  // table iptables-nft makes on first use); counts nothing.
  void undo_command(const std::string& what, const std::vector<std::string>& undo_argv);
  // Hands an object that owns kernel state or threads (a skeleton, a link, the proxy) to the
  // log: destroyed at teardown in reverse order. `calls`: the in-process kernel calls it took
  // (bpf(), setsockopt). Returns the object, still usable until teardown.
  template <class T, class D>
  T* adopt(const std::string& what, std::vector<Installed> installed, uint64_t calls, std::unique_ptr<T, D> obj) {
    T* raw = obj.get();
    std::shared_ptr<T> owned(std::move(obj));
    push({what, std::move(installed), calls, false, {}, {}, [owned]() mutable { owned.reset(); }});
    return raw;
  }
  // The same for an object that ran an external command to make its state (an ethtool guard).
  template <class T, class D>
  T* adopt_command(const std::string& what, std::vector<Installed> installed, std::unique_ptr<T, D> obj) {
    T* raw = obj.get();
    std::shared_ptr<T> owned(std::move(obj));
    push({what, std::move(installed), 0, true, {}, {}, [owned]() mutable { owned.reset(); }});
    return raw;
  }
  // Records in-process steps whose undo belongs to an object already adopted (entries of a map
  // go with the map); `undo` runs at teardown if given.
  void note(const std::string& what, std::vector<Installed> installed, uint64_t calls,
            std::function<void()> undo = {});

  void setup_done();        // ends the setup clock (the runner calls it after the path is built)
  void undo_all() noexcept; // idempotent; logs failures, never throws; ends the teardown clock
  const std::string& netns() const { return ns_; }
  // The external undo commands not yet run, in the order teardown runs them:
  // [{"argv": [...], "stdin": "..."}]. A journal that outlives the process (hosts mode's agent
  // writes it for `pathbench cleanup --hosts`); objects (BPF links, threads) die with the process.
  nlohmann::json pending_commands() const;
  // {"counts": {...}, "commands": n, "calls": n, "setup_ns", "teardown_ns"|null, "steps": [...]}
  nlohmann::json configuration() const;

 private:
  struct Step {
    std::string what;
    std::vector<Installed> installed;
    uint64_t calls = 0;
    bool command = false;
    std::vector<std::string> undo_argv;
    std::string undo_stdin;
    std::function<void()> undo_fn;
  };
  void push(Step s);
  std::string ns_;
  std::vector<Step> steps_;   // everything done, for the record
  size_t undone_ = 0;         // steps_[0, steps_.size() - undone_) still to undo
  uint64_t t0_, setup_ns_ = 0, teardown_ns_ = 0;
  bool torn_down_ = false;
};

}  // namespace pb

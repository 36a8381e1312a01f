// SPDX-License-Identifier: Apache-2.0
// run/runstate.h: what a run owns, written down before it is created, so `pathbench cleanup` can
// undo a run that was SIGKILLed. One file per run: /run/pathbench/<id>.json (tmpfs: a reboot, which
// removes namespaces too, removes it). It names the owner (pid + start time, so a recycled pid is
// not mistaken for the owner) and the namespaces. A run changes no global setting (BPF run-time
// statistics go through a file descriptor that dies with the process), so there is none to
// restore.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pb {

std::string state_dir();  // $PATHBENCH_STATE_DIR or /run/pathbench

class RunState {
 public:
  explicit RunState(std::string run_id);  // writes the file (owner = this process)
  ~RunState();                            // removes it (after the run has cleaned up)
  RunState(const RunState&) = delete;
  RunState& operator=(const RunState&) = delete;

 private:
  void save();
  std::string id_, file_;
  nlohmann::json doc_;
};

// What a `pathbench vm` run owns besides namespaces: processes (qemu) and directories (the
// guest's initramfs, its results share, a kernel being unpacked into the cache). Written down
// before each is created, in <state_dir>/vm/<id>.json; `pathbench cleanup` kills the processes
// (pid + start time, so a recycled pid is spared) and removes the directories of a dead owner.
class OwnedResources {
 public:
  explicit OwnedResources(std::string id);
  ~OwnedResources();  // removes the record (the owner cleaned up itself)
  OwnedResources(const OwnedResources&) = delete;
  OwnedResources& operator=(const OwnedResources&) = delete;
  void add_dir(const std::string& path);
  void drop_dir(const std::string& path);
  void add_pid(int pid);
  void drop_pid(int pid);
  const std::string& id() const { return id_; }

 private:
  void save();
  std::string id_, file_;
  nlohmann::json doc_;
};
// Kills and removes what dead owners' records name; returns the ids cleaned.
std::vector<std::string> cleanup_owned_resources(std::vector<std::string>* busy = nullptr);
void remove_tree(const std::string& path);  // rm -rf, refusing "/" and ""

std::string new_run_id();
bool owner_alive(const nlohmann::json& state);

struct CleanupReport {
  std::vector<std::string> removed;  // run ids whose leftovers were removed
  std::vector<std::string> busy;     // run ids still owned by a live process
  std::vector<std::string> errors;
  std::vector<std::string> unowned;  // pb-<id>-* namespaces without an owner record, left alone
};
// Removes leftovers of dead runs: namespaces pb-<id>-*, state files.
// With orphans=true also pb-<id>-* namespaces that have no owner record (made by hand).
CleanupReport cleanup_leftovers(bool orphans = false);

}  // namespace pb

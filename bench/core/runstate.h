// runstate.h: what a run owns, written down before it is created, so `pathbench cleanup` can undo
// a run that was SIGKILLed. One file per run: /run/pathbench/<id>.json (tmpfs: a reboot, which
// removes namespaces too, removes it). It names the owner (pid + start time, so a recycled pid is
// not mistaken for the owner) and every global setting changed, with its previous value.
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
  // Records a global sysctl's previous value, then sets it; restored by restore_globals()
  // (normal end) or by cleanup (killed run).
  void set_global_sysctl(const std::string& key, const std::string& value);
  void restore_globals();

 private:
  void save();
  std::string id_, file_;
  nlohmann::json doc_;
};

std::string new_run_id();
bool owner_alive(const nlohmann::json& state);

struct CleanupReport {
  std::vector<std::string> removed;  // run ids whose leftovers were removed
  std::vector<std::string> busy;     // run ids still owned by a live process
  std::vector<std::string> errors;
  std::vector<std::string> unowned;  // pb-<id>-* namespaces without an owner record, left alone
};
// Removes leftovers of dead runs: namespaces pb-<id>-*, state files, global settings restored.
// With orphans=true also pb-<id>-* namespaces that have no owner record (made by hand).
CleanupReport cleanup_leftovers(bool orphans = false);

std::string read_sysctl(const std::string& key);
void write_sysctl(const std::string& key, const std::string& value);

}  // namespace pb

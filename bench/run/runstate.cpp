// SPDX-License-Identifier: Apache-2.0
#include "run/runstate.h"

#include <dirent.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <set>

#include "common/error.h"
#include "common/json_io.h"
#include "common/log.h"
#include "roles/topology.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/strings.h"
#include "kernel/process.h"
#include "kernel/sysctl.h"

namespace pb {

std::string state_dir() {
  if (const char* e = std::getenv("PATHBENCH_STATE_DIR")) return e;
  return "/run/pathbench";
}

static std::string proc_starttime(pid_t pid) {
  auto s = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!s) return {};
  auto close_paren = s->rfind(')');
  if (close_paren == std::string::npos) return {};
  auto fields = split(s->substr(close_paren + 2), ' ');
  // fields[0] is field 3 (state); starttime is field 22.
  return fields.size() > 19 ? fields[19] : std::string();
}

std::string new_run_id() {
  std::random_device rd;
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 6; ++i) id += hex[rd() % 16];
  return id;
}

RunState::RunState(std::string run_id) : id_(std::move(run_id)) {
  mkdir(state_dir().c_str(), 0755);
  file_ = state_dir() + "/" + id_ + ".json";
  doc_ = {{"run_id", id_},
          {"pid", getpid()},
          {"starttime", proc_starttime(getpid())},
          {"started_utc", utc_now_iso8601()},
          {"namespaces", {"pb-" + id_ + "-cli", "pb-" + id_ + "-dut", "pb-" + id_ + "-srv"}}};
  save();
}

RunState::~RunState() { unlink(file_.c_str()); }

void RunState::save() { write_json_atomic(file_, doc_); }

static std::string vm_state_dir() { return state_dir() + "/vm"; }

OwnedResources::OwnedResources(std::string id) : id_(std::move(id)) {
  make_dirs(vm_state_dir(), "state directory");
  file_ = vm_state_dir() + "/" + id_ + ".json";
  doc_ = {{"id", id_},
          {"pid", getpid()},
          {"starttime", proc_starttime(getpid())},
          {"started_utc", utc_now_iso8601()},
          {"pids", nlohmann::json::array()},
          {"dirs", nlohmann::json::array()}};
  save();
}
OwnedResources::~OwnedResources() { unlink(file_.c_str()); }
void OwnedResources::save() { write_json_atomic(file_, doc_); }
void OwnedResources::add_dir(const std::string& p) {
  doc_["dirs"].push_back(p);
  save();
}
void OwnedResources::drop_dir(const std::string& p) {
  auto& d = doc_["dirs"];
  for (auto it = d.begin(); it != d.end();)
    it = (*it == p) ? d.erase(it) : it + 1;
  save();
}
void OwnedResources::add_pid(int pid) {
  doc_["pids"].push_back({{"pid", pid}, {"starttime", proc_starttime(pid)}});
  save();
}
void OwnedResources::drop_pid(int pid) {
  auto& d = doc_["pids"];
  for (auto it = d.begin(); it != d.end();)
    it = ((*it).value("pid", 0) == pid) ? d.erase(it) : it + 1;
  save();
}

void remove_tree(const std::string& path) {
  if (path.empty() || path == "/") return;
  run_cmd({"rm", "-rf", "--one-file-system", "--", path}, {}, 60);
}

std::vector<std::string> cleanup_owned_resources(std::vector<std::string>* busy) {
  std::vector<std::string> cleaned;
  DIR* d = opendir(vm_state_dir().c_str());
  if (!d) return cleaned;
  std::vector<std::string> files;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.substr(n.size() - 5) == ".json") files.push_back(n);
  }
  closedir(d);
  for (auto& n : files) {
    std::string f = vm_state_dir() + "/" + n, id = n.substr(0, n.size() - 5);
    nlohmann::json st = nlohmann::json::object();
    try {
      st = nlohmann::json::parse(*read_file(f));
    } catch (...) {
    }
    if (owner_alive(st)) {
      if (busy) busy->push_back(id);
      continue;
    }
    for (auto& p : st.value("pids", nlohmann::json::array())) {
      pid_t pid = p.value("pid", 0);
      if (pid > 0 && kill(pid, 0) == 0 && proc_starttime(pid) == p.value("starttime", std::string())) {
        kill(pid, SIGKILL);
        for (int i = 0; i < 50 && kill(pid, 0) == 0; ++i) usleep(20000);
      }
    }
    for (auto& dir : st.value("dirs", nlohmann::json::array())) remove_tree(dir.get<std::string>());
    unlink(f.c_str());
    cleaned.push_back(id);
  }
  return cleaned;
}

bool owner_alive(const nlohmann::json& st) {
  pid_t pid = st.value("pid", 0);
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  return proc_starttime(pid) == st.value("starttime", std::string());
}

CleanupReport cleanup_leftovers(bool orphans) {
  CleanupReport rep;
  for (auto& id : cleanup_owned_resources(&rep.busy)) rep.removed.push_back(id);
  std::set<std::string> ids;
  std::map<std::string, nlohmann::json> states;
  if (DIR* d = opendir(state_dir().c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.substr(n.size() - 5) == ".json") {
        std::string id = n.substr(0, n.size() - 5);
        try {
          states[id] = nlohmann::json::parse(*read_file(state_dir() + "/" + n));
        } catch (...) {
          states[id] = nlohmann::json::object();
        }
        ids.insert(id);
      }
    }
    closedir(d);
  }
  CmdResult l = run_cmd({topology_script(), "list"}, {}, 30);
  for (auto& id : split(l.out, '\n'))
    if (!trim(id).empty()) ids.insert(trim(id));
  for (auto& id : ids) {
    auto it = states.find(id);
    if (it != states.end() && owner_alive(it->second)) {
      rep.busy.push_back(id);
      continue;
    }
    // No owner record: not a killed run (a run writes its record before it creates anything),
    // but a topology made by hand or by a test with netns/topology.sh. Only on request.
    if (it == states.end() && !orphans) {
      rep.unowned.push_back(id);
      continue;
    }
    try {
      Topology::down(id);
      unlink((state_dir() + "/" + id + ".json").c_str());
      rep.removed.push_back(id);
    } catch (const std::exception& e) {
      rep.errors.push_back(id + ": " + e.what());
    }
  }
  return rep;
}

}  // namespace pb

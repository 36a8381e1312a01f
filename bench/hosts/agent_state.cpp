// SPDX-License-Identifier: Apache-2.0
#include "hosts/agent_state.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json_io.h"
#include "common/log.h"
#include "common/strings.h"
#include "kernel/process.h"
#include "run/runstate.h"

namespace pb {

namespace {

std::string self_starttime() {
  auto s = read_file("/proc/self/stat");
  if (!s) return {};
  auto rp = s->rfind(')');
  auto f = split(s->substr(rp + 2), ' ');
  return f.size() > 19 ? f[19] : std::string();
}

// This process's network namespace ("net:[4026531840]"): a host's records are its own only when
// they name it (hosts sharing a /run, as the test's namespaces do, never act on each other's).
std::string own_netns() {
  char b[64] = {};
  ssize_t n = readlink("/proc/self/ns/net", b, sizeof b - 1);
  return n > 0 ? std::string(b, static_cast<size_t>(n)) : std::string();
}

}  // namespace

AgentRecord::AgentRecord(std::string role, std::string run_id)
    : role_(std::move(role)), run_id_(std::move(run_id)), file_(state_dir() + "/agent-" + run_id_ + "-" + role_ + ".json") {
  save(nlohmann::json::array());
}

AgentRecord::~AgentRecord() { unlink(file_.c_str()); }

void AgentRecord::save(const nlohmann::json& undo) {
  try {
    make_dirs(state_dir());
    write_json_atomic(file_, {{"pid", getpid()},
                              {"starttime", self_starttime()},
                              {"role", role_},
                              {"run_id", run_id_},
                              {"netns", own_netns()},
                              {"started_utc", utc_now_iso8601()},
                              {"undo", undo}});
  } catch (const std::exception& e) {
    log::debug("agent state file {}: {}", file_, e.what());
  }
}

int agent_cleanup() {
  nlohmann::json out = {{"stopped", nlohmann::json::array()}, {"stale", nlohmann::json::array()}};
  std::vector<std::pair<pid_t, std::string>> live;
  if (DIR* d = opendir(state_dir().c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.rfind("agent-", 0) != 0) continue;
      std::string f = state_dir() + "/" + n;
      auto text = read_file(f);
      nlohmann::json st;
      try {
        st = nlohmann::json::parse(text.value_or("{}"));
      } catch (const std::exception&) {
      }
      if (st.value("netns", std::string()) != own_netns()) continue;  // another host's (shared /run)
      if (st.value("pid", 0) != getppid() && owner_alive(st) && st.value("pid", 0) != getpid()) {
        kill(st.value("pid", 0), SIGTERM);
        live.push_back({st.value("pid", 0), f});
        out["stopped"].push_back(n);
      } else {
        // Its owner died without tearing down: run the undo commands it journaled.
        unsigned undone = 0;
        for (auto& c : st.value("undo", nlohmann::json::array())) {
          CmdResult r = run_cmd(c["argv"].get<std::vector<std::string>>(), c.value("stdin", std::string()), 30);
          undone += r.status == 0;
        }
        unlink(f.c_str());
        out["stale"].push_back({{"file", n}, {"undo_commands_run", undone}});
      }
    }
    closedir(d);
  }
  const uint64_t until = mono_ns() + 20'000'000'000ull;
  for (auto& [pid, f] : live) {
    while (kill(pid, 0) == 0 && mono_ns() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (kill(pid, 0) != 0) unlink(f.c_str());
  }
  std::printf("%s\n", out.dump().c_str());
  return kExitOk;
}

}  // namespace pb

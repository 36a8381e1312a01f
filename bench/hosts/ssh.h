// SPDX-License-Identifier: Apache-2.0
// hosts/ssh.h: OpenSSH to one host, and the agent at its other end. The transport is the ssh
// client itself (no home-made one): one multiplexed master connection per host (ControlMaster,
// a socket under the run's own directory, ControlPersist so a killed orchestrator's master goes
// away by itself), every other session over it; BatchMode (no password or passphrase prompt,
// ever) and StrictHostKeyChecking=yes (an unknown or changed host key refuses the host).
//
// ssh's own failures are told apart by its message (it exits 255 for all of them) into the
// exit codes of common/error.h: unreachable, host key, authentication.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hosts/hosts_file.h"

namespace pb {

class SshHost {
 public:
  // control_dir: a directory of the run's own (short: the socket path must fit sun_path).
  SshHost(HostSpec spec, const std::string& control_dir);
  ~SshHost();  // closes the master (ssh -O exit)
  SshHost(const SshHost&) = delete;
  SshHost& operator=(const SshHost&) = delete;

  const HostSpec& spec() const { return spec_; }
  // ssh argv running `remote` (each word quoted for the remote shell) over the master.
  std::vector<std::string> argv(const std::vector<std::string>& remote) const;
  // Opens the master connection; throws Error(22/23/24) naming the host and ssh's message.
  void connect(int timeout_s = 15);
  void close();

 private:
  std::vector<std::string> base(bool master) const;
  void connect_once(int timeout_s);
  HostSpec spec_;
  std::string control_path_, log_;
  bool connected_ = false;
};

// Classifies ssh's stderr (exit 255) into the exit code and a one-line reason.
std::pair<int, std::string> classify_ssh_failure(const std::string& stderr_text);

// `pathbench agent` on a host, over its master: requests and replies are one JSON object per
// line (hosts/protocol.h; docs/hosts.md "The agent protocol"). call() sends a request and waits for its reply; while it waits the
// agent may ask the orchestrator something ({"ask": ...}), answered by on_ask.
class AgentConn {
 public:
  AgentConn(SshHost& host, const std::vector<std::string>& agent_args);
  ~AgentConn();  // close()
  AgentConn(const AgentConn&) = delete;
  AgentConn& operator=(const AgentConn&) = delete;

  using AskFn = std::function<nlohmann::json(const nlohmann::json&)>;
  // Throws Error(code from the reply, or kExitHostLost) with the agent's one-line error.
  nlohmann::json call(nlohmann::json req, double timeout_s = 60, const AskFn& on_ask = {});
  // Why the agent is lost (its connection dropped, it stopped answering), or "": set by the
  // first call that threw kExitHostLost, whoever caught that.
  const std::string& lost() const { return lost_; }
  // Closes the agent's stdin (it tears down and exits) and waits up to timeout_s for it; then
  // kills the local ssh (the agent sees EOF all the same).
  void close(double timeout_s = 20);
  std::string stderr_tail() const;
  const std::string& where() const { return where_; }

 private:
  nlohmann::json exchange(nlohmann::json req, double timeout_s, const AskFn& on_ask);
  std::optional<std::string> read_line(double timeout_s);  // nullopt: nothing within timeout_s
  std::string where_;
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  int err_fd_ = -1;
  std::string buf_;
  uint64_t next_id_ = 1;
  std::string lost_;
};

}  // namespace pb

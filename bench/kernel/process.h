// SPDX-License-Identifier: Apache-2.0
// kernel/process.h: running the tools pathbench drives (ip, nft, iptables, ethtool, reference
// tools) without a shell, with bounded time, and owning background processes by pid.
#pragma once
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace pb {

struct CmdResult {
  int status = -1;  // exit status, or 128+signal
  std::string out;
  std::string err;
};

// Runs argv (no shell) with optional stdin text; captures stdout/stderr; kills it after
// timeout_s. Never throws for a non-zero exit; throws EnvError only when it cannot be started.
CmdResult run_cmd(const std::vector<std::string>& argv, const std::string& stdin_text = {},
                  int timeout_s = 30);
// Same, but throws EnvError("'<argv>' exited N: <stderr tail>") when the exit status is not 0.
std::string run_cmd_checked(const std::vector<std::string>& argv, const std::string& stdin_text = {},
                            int timeout_s = 30);

// Is an executable on PATH? Returns its full path. PATH only: a tool the user's PATH does not
// reach is a tool pathbench does not use (and tests can hide one by leaving it out of PATH).
std::optional<std::string> find_program(const std::string& name);

// A background process we started (a reference tool's server, say); killed by pid — first
// SIGTERM, then SIGKILL — and reaped on destruction. stdout/stderr go to a temp file kept for
// the error message.
class ChildProcess {
 public:
  // inherit: fds of this process the child gets, as fds inherit[i] -> first_inherited() + i
  // (HAProxy's `bind fd@N`); every other fd stays close-on-exec.
  explicit ChildProcess(const std::vector<std::string>& argv, const std::vector<int>& inherit = {});
  // The fd number the first inherited fd has in the child (the others follow it).
  static int first_inherited(const std::vector<int>& inherit);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  pid_t pid() const { return pid_; }
  bool running();
  // Stops it; returns its output (stdout and stderr).
  std::string stop();
  // The file its stdout and stderr go to (removed with this object).
  const std::string& output_path() const { return log_; }

 private:
  pid_t pid_ = -1;
  std::string log_;
  std::string argv0_;
};

}  // namespace pb

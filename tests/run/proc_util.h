// SPDX-License-Identifier: Apache-2.0
// proc_util.h: a pathbench process under test whose stderr is watched, so a test can signal it at a
// chosen moment ("when it says 'tearing down'").
#pragma once
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "kernel/process.h"
#include "kernel/netns.h"
#include "kernel/host.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/strings.h"

extern char** environ;

namespace pbtest {

class Proc {
 public:
  explicit Proc(const std::vector<std::string>& args) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) abort();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    std::vector<std::string> argv{PATHBENCH_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    if (posix_spawn(&pid_, a[0], &fa, nullptr, a.data(), environ) != 0) abort();
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    fd_ = p[0];
  }
  ~Proc() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      wait_exit(10);
    }
    if (fd_ >= 0) close(fd_);
  }
  // Reads stderr until `text` appears (true) or timeout/EOF (false).
  bool wait_for(const std::string& text, double timeout_s) {
    uint64_t end = pb::mono_ns() + static_cast<uint64_t>(timeout_s * 1e9);
    while (err_.find(text) == std::string::npos) {
      if (!pump(end)) return err_.find(text) != std::string::npos;
    }
    return true;
  }
  void signal(int sig) { kill(pid_, sig); }
  // Waits for exit; returns exit status (128+sig when killed), -1 on timeout.
  int wait_exit(double timeout_s) {
    uint64_t end = pb::mono_ns() + static_cast<uint64_t>(timeout_s * 1e9);
    for (;;) {
      int st = 0;
      pid_t r = waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        while (pump(pb::mono_ns() + 100000000)) {
        }
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      if (pb::mono_ns() > end) return -1;
      pump(pb::mono_ns() + 20000000);
    }
  }
  const std::string& err() const { return err_; }

 private:
  bool pump(uint64_t until) {
    int64_t ms = (static_cast<int64_t>(until) - static_cast<int64_t>(pb::mono_ns())) / 1000000;
    if (ms <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(ms)) <= 0) return false;
    char buf[4096];
    ssize_t n = read(fd_, buf, sizeof buf);
    if (n <= 0) return false;
    err_.append(buf, static_cast<size_t>(n));
    return true;
  }
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string err_;
};

}  // namespace pbtest

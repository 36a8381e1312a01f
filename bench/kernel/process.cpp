// SPDX-License-Identifier: Apache-2.0
#include "kernel/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "common/clock.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/strings.h"

extern char** environ;

namespace pb {

// posix_spawnp with what every child of pathbench needs: no inherited blocked signal mask (the
// run blocks SIGINT/SIGTERM in its threads) nor handlers, and its own process group, so a
// terminal's Ctrl-C reaches pathbench (which then tears down in order), not the ip/nft commands
// it runs during that teardown. Returns posix_spawnp's error number.
static int spawn(const std::vector<std::string>& argv, const posix_spawn_file_actions_t* fa, pid_t* pid) {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, def;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  sigemptyset(&def);
  sigaddset(&def, SIGINT);
  sigaddset(&def, SIGTERM);
  sigaddset(&def, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &def);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int rc = posix_spawnp(pid, args[0], fa, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  return rc;
}

CmdResult run_cmd(const std::vector<std::string>& argv, const std::string& stdin_text, int timeout_s) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC))
    throw_errno("pipe", errno);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  pid_t pid;
  int rc = spawn(argv, &fa, &pid);
  posix_spawn_file_actions_destroy(&fa);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw EnvError(errno_msg("cannot run " + argv[0], rc));
  }
  CmdResult res;
  size_t written = 0;
  int in_fd = in_pipe[1];
  if (stdin_text.empty()) {
    close(in_fd);
    in_fd = -1;
  } else {
    fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  const uint64_t deadline = mono_ns() + static_cast<uint64_t>(timeout_s) * 1000000000ull;
  bool timed_out = false;
  while (out_fd >= 0 || err_fd >= 0) {
    pollfd p[3];
    int n = 0;
    if (out_fd >= 0) p[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) p[n++] = {err_fd, POLLIN, 0};
    if (in_fd >= 0) p[n++] = {in_fd, POLLOUT, 0};
    int64_t left_ms = (static_cast<int64_t>(deadline) - static_cast<int64_t>(mono_ns())) / 1000000;
    if (left_ms <= 0) {
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    int r = poll(p, n, static_cast<int>(left_ms));
    if (r < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (!p[i].revents) continue;
      if (p[i].fd == in_fd) {
        ssize_t w = write(in_fd, stdin_text.data() + written, stdin_text.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) written = stdin_text.size();
        if (written >= stdin_text.size()) {
          close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      char buf[4096];
      ssize_t got = read(p[i].fd, buf, sizeof buf);
      if (got <= 0) {
        close(p[i].fd);
        if (p[i].fd == out_fd) out_fd = -1; else err_fd = -1;
      } else {
        (p[i].fd == out_fd ? res.out : res.err).append(buf, static_cast<size_t>(got));
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  if (out_fd >= 0) close(out_fd);
  if (err_fd >= 0) close(err_fd);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  res.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  if (timed_out) res.err += "\n(timed out after " + std::to_string(timeout_s) + " s)";
  return res;
}

std::string run_cmd_checked(const std::vector<std::string>& argv, const std::string& stdin_text,
                            int timeout_s) {
  CmdResult r = run_cmd(argv, stdin_text, timeout_s);
  if (r.status != 0) {
    std::string tail = trim(r.err.empty() ? r.out : r.err);
    if (tail.size() > 400) tail = "..." + tail.substr(tail.size() - 400);
    for (auto& c : tail)
      if (c == '\n') c = ' ';
    throw EnvError("'" + join(argv, " ") + "' exited " + std::to_string(r.status) + ": " + tail);
  }
  return r.out;
}

std::optional<std::string> find_program(const std::string& name) {
  // PATH only: a tool the user's PATH does not reach is a tool pathbench does not use (and tests
  // can hide one by leaving it out of PATH).
  std::string path = getenv("PATH") ? getenv("PATH") : "";
  for (auto& dir : split(path, ':')) {
    if (dir.empty()) continue;
    std::string p = dir + "/" + name;
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return std::nullopt;
}

int ChildProcess::first_inherited(const std::vector<int>& inherit) {
  // Above every source fd, so no dup2 overwrites a source a later one still needs; dup2 to another
  // number leaves close-on-exec clear on the copy.
  int top = 2;
  for (int fd : inherit) top = std::max(top, fd);
  return top + 1;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::vector<int>& inherit)
    : argv0_(argv.at(0)) {
  char tmpl[] = "/tmp/pathbench-child-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0) throw_errno("mkstemp", errno);
  log_ = tmpl;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fd, 1);
  posix_spawn_file_actions_adddup2(&fa, fd, 2);
  const int first = first_inherited(inherit);
  for (size_t i = 0; i < inherit.size(); ++i)
    posix_spawn_file_actions_adddup2(&fa, inherit[i], first + static_cast<int>(i));
  int rc = spawn(argv, &fa, &pid_);
  posix_spawn_file_actions_destroy(&fa);
  close(fd);
  if (rc != 0) {
    unlink(log_.c_str());
    pid_ = -1;
    throw EnvError(errno_msg("cannot run " + argv0_, rc));
  }
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int st;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::string ChildProcess::stop() {
  if (pid_ > 0) {
    // The process group: `ip netns exec` execs the tool, but a tool may fork workers.
    kill(-pid_, SIGTERM);
    kill(pid_, SIGTERM);
    for (int i = 0; i < 50 && running(); ++i) usleep(20000);
    if (pid_ > 0) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      int st;
      waitpid(pid_, &st, 0);
      pid_ = -1;
    }
  }
  std::string out = read_file(log_).value_or("");
  return out;
}

ChildProcess::~ChildProcess() {
  stop();
  unlink(log_.c_str());
}

}  // namespace pb

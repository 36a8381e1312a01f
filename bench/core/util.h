// util.h: small system helpers shared by every part of the harness: running a command, entering a
// network namespace from one thread, reading small files, clocks.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <sys/types.h>

namespace pb {

struct CmdResult {
  int status = -1;  // exit status, or 128+signal
  std::string out;
  std::string err;
};

// Runs argv (no shell) with optional stdin text; captures stdout/stderr. Never throws for a
// non-zero exit; throws EnvError only when the program cannot be started.
CmdResult run_cmd(const std::vector<std::string>& argv, const std::string& stdin_text = {},
                  int timeout_s = 30);
// Same, but throws EnvError("<argv>: <stderr tail>") when the exit status is not 0.
std::string run_cmd_checked(const std::vector<std::string>& argv, const std::string& stdin_text = {},
                            int timeout_s = 30);
// argv for running a command inside a named namespace: {"ip","netns","exec",ns, ...}.
std::vector<std::string> in_netns(const std::string& ns, std::vector<std::string> argv);

// Is an executable on PATH (or in /usr/sbin, /sbin)? Returns the full path.
std::optional<std::string> find_program(const std::string& name);

std::optional<std::string> read_file(const std::string& path);
std::string trim(std::string s);
std::vector<std::string> split(const std::string& s, char sep);
std::string join(const std::vector<std::string>& v, const std::string& sep);

// An open fd of /run/netns/<name>; closes on destruction.
class NetnsFd {
 public:
  NetnsFd() = default;
  explicit NetnsFd(const std::string& name);
  ~NetnsFd();
  NetnsFd(NetnsFd&& o) noexcept : fd_(o.fd_), name_(std::move(o.name_)) { o.fd_ = -1; }
  NetnsFd& operator=(NetnsFd&& o) noexcept;
  NetnsFd(const NetnsFd&) = delete;
  NetnsFd& operator=(const NetnsFd&) = delete;
  int fd() const { return fd_; }
  const std::string& name() const { return name_; }

 private:
  int fd_ = -1;
  std::string name_;
};

// Moves the calling thread into a network namespace for the scope's length; restores the
// thread's previous namespace on destruction. setns() applies per thread; a socket keeps the
// namespace it was created in, so a socket made inside the scope stays there after it.
class ScopedNetns {
 public:
  explicit ScopedNetns(const std::string& name);
  ~ScopedNetns();
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;

 private:
  int saved_ = -1;
};

// Runs fn on a fresh thread inside namespace `ns` and waits for it; rethrows its exception.
void run_in_netns(const std::string& ns, const std::function<void()>& fn);

// Interface index of `dev` inside namespace `ns` (0 when absent).
unsigned ifindex_in_netns(const std::string& ns, const std::string& dev);

inline uint64_t mono_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}
std::string utc_now_iso8601();
std::string utc_now_compact();  // 20261128T004000Z, for directory names

std::string kernel_release();
bool is_root();

}  // namespace pb

namespace pb {

// A background process we started (a reference tool's server, say); killed by pid — first
// SIGTERM, then SIGKILL — and reaped on destruction. stdout/stderr go to a temp file kept for
// the error message.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  pid_t pid() const { return pid_; }
  bool running();
  // Stops it; returns its output (stdout and stderr).
  std::string stop();

 private:
  pid_t pid_ = -1;
  std::string log_;
  std::string argv0_;
};

}  // namespace pb

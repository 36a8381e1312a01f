// SPDX-License-Identifier: Apache-2.0
// kernel/netns.h: entering network namespaces. setns() applies per thread, and a socket keeps
// the namespace it was created in, so one process can drive several namespaces: a thread
// enters one, makes its sockets or resolves interface indexes there, and leaves.
//
// A namespace name "" means "the namespace this process runs in" (no setns at all): that is how
// a role runs on a real host, where the agent lives in the host's own namespace.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace pb {

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
// thread's previous namespace on destruction. "" stays where it is.
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

// Runs fn on a fresh thread inside a new, empty network namespace (unshare(CLONE_NEWNET) on that
// thread; it disappears with the thread), so feasibility probes that run programs touch nothing
// real. Falls back to the caller's namespace when unshare is not permitted.
void run_in_throwaway_netns(const std::function<void()>& fn);

// argv for running a command inside a named namespace: {"ip","netns","exec",ns, ...}; "" = argv.
std::vector<std::string> in_netns(const std::string& ns, std::vector<std::string> argv);

// Interface index of `dev` inside namespace `ns` (0 when absent).
unsigned ifindex_in_netns(const std::string& ns, const std::string& dev);

}  // namespace pb

// SPDX-License-Identifier: Apache-2.0
#include "kernel/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <thread>

#include "common/error.h"
#include "common/log.h"

namespace pb {

NetnsFd::NetnsFd(const std::string& name) : name_(name) {
  // "" is the namespace this thread is in (kernel/netns.h), as on a real host.
  std::string p = name.empty() ? std::string("/proc/thread-self/ns/net") : "/run/netns/" + name;
  fd_ = open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw_errno("open " + p, errno);
}
NetnsFd::~NetnsFd() {
  if (fd_ >= 0) close(fd_);
}
NetnsFd& NetnsFd::operator=(NetnsFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    name_ = std::move(o.name_);
    o.fd_ = -1;
  }
  return *this;
}

ScopedNetns::ScopedNetns(const std::string& name) {
  if (name.empty()) return;
  saved_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved_ < 0) throw_errno("open /proc/thread-self/ns/net", errno);
  NetnsFd target(name);
  if (setns(target.fd(), CLONE_NEWNET) != 0) {
    int e = errno;
    close(saved_);
    saved_ = -1;
    throw_errno("setns(" + name + ")", e);
  }
}
ScopedNetns::~ScopedNetns() {
  if (saved_ >= 0) {
    setns(saved_, CLONE_NEWNET);
    close(saved_);
  }
}

void run_in_netns(const std::string& ns, const std::function<void()>& fn) {
  std::exception_ptr ep;
  std::thread t([&] {
    try {
      ScopedNetns s(ns);
      fn();
    } catch (...) {
      ep = std::current_exception();
    }
  });
  t.join();
  if (ep) std::rethrow_exception(ep);
}

void run_in_throwaway_netns(const std::function<void()>& fn) {
  std::exception_ptr err;
  std::thread t([&] {
    try {
      if (unshare(CLONE_NEWNET) != 0)
        log::debug("{}", errno_msg("unshare(CLONE_NEWNET) for a probe; probing in place", errno));
      fn();
    } catch (...) {
      err = std::current_exception();
    }
  });
  t.join();
  if (err) std::rethrow_exception(err);
}

std::vector<std::string> in_netns(const std::string& ns, std::vector<std::string> argv) {
  if (ns.empty()) return argv;
  std::vector<std::string> v{"ip", "netns", "exec", ns};
  v.insert(v.end(), argv.begin(), argv.end());
  return v;
}

unsigned ifindex_in_netns(const std::string& ns, const std::string& dev) {
  unsigned idx = 0;
  run_in_netns(ns, [&] { idx = if_nametoindex(dev.c_str()); });
  return idx;
}

}  // namespace pb

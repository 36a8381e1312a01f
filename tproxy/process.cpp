// SPDX-License-Identifier: Apache-2.0
// tproxy/process.cpp: Config::own_process, the workers in a forked process of their own.
//
// Why: a transparent proxy in production (HAProxy, Envoy) is a process of its own, so every
// request through it switches address spaces twice more than one through threads of the client's
// own process. On a host with PTI and no PCID that is a TLB refill each time, and it decided a
// comparison with HAProxy (docs/peers.md "Our proxy against HAProxy").
//
// How: fork, and the child runs an ordinary Proxy (worker threads) built from the same Config.
// The parent keeps a SOCK_SEQPACKET socketpair to it (one message per request and per reply, and
// SCM_RIGHTS for the listeners' fds, which BPF steering puts into sockmaps). Requests:
//   "listen <port>"          -> "o" | "e<error>"
//   "counters"               -> "o" + CounterSnapshot's bytes
//   "fds tcp" | "fds udp"    -> "o" with the fds attached
//   "stop"                   -> "o" once the workers are joined; then the child exits
// The child also stops when the pair reads end-of-file: its parent is gone. That is independent of
// which thread forked it (PR_SET_PDEATHSIG follows the forking thread, which may end first).
// Hand-written: a fork and four requests; no Debian library does less.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "proxy.h"

namespace pb::tproxy {

namespace {

static_assert(std::is_trivially_copyable_v<CounterSnapshot>, "counters travel as bytes");

constexpr size_t kMaxFds = 253;  // SCM_MAX_FD: the most one message may carry
constexpr int kReplyTimeoutMs = 10000;
constexpr int kStopTimeoutMs = 5000;

std::string errno_text(const char* what, int e) { return std::string(what) + ": " + std::strerror(e); }

void send_msg(int fd, const std::string& m, const std::vector<int>& fds = {}) {
  if (fds.size() > kMaxFds)
    throw std::runtime_error("tproxy process: " + std::to_string(fds.size()) + " fds, one message carries " +
                             std::to_string(kMaxFds));
  iovec iov{const_cast<char*>(m.data()), m.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  std::vector<char> ctrl(CMSG_SPACE(sizeof(int) * (fds.empty() ? 1 : fds.size())));
  if (!fds.empty()) {
    mh.msg_control = ctrl.data();
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do n = sendmsg(fd, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw std::runtime_error(errno_text("tproxy process: send", errno));
}

// One message; "" at end-of-file. Received fds are appended to *fds (closed when not wanted).
std::string recv_msg(int fd, std::vector<int>* fds, int timeout_ms) {
  if (timeout_ms >= 0) {
    pollfd p{fd, POLLIN, 0};
    int r;
    do r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r == 0) throw std::runtime_error("tproxy process: no reply within " + std::to_string(timeout_ms) + " ms");
    if (r < 0) throw std::runtime_error(errno_text("tproxy process: poll", errno));
  }
  std::string buf(sizeof(CounterSnapshot) + 512, '\0');
  std::vector<char> ctrl(CMSG_SPACE(sizeof(int) * kMaxFds));
  iovec iov{buf.data(), buf.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = ctrl.data();
  mh.msg_controllen = ctrl.size();
  ssize_t n;
  do n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw std::runtime_error(errno_text("tproxy process: receive", errno));
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    std::vector<int> got(k);
    std::memcpy(got.data(), CMSG_DATA(c), sizeof(int) * k);
    for (int f : got) {
      if (fds) fds->push_back(f);
      else close(f);
    }
  }
  buf.resize(static_cast<size_t>(n));
  return buf;
}

void stderr_log(LogLevel l, std::string_view m) {
  if (l == LogLevel::kDebug) return;
  std::fprintf(stderr, "tproxy[%d]: %s%.*s\n", static_cast<int>(getpid()),
               l == LogLevel::kError ? "error: " : l == LogLevel::kWarn ? "warning: " : "",
               static_cast<int>(m.size()), m.data());
}

// The child's whole life: an ordinary Proxy, serving the parent's requests until "stop" or EOF.
[[noreturn]] void child_main(Config cfg, int ctl) {
  signal(SIGINT, SIG_IGN);  // the parent tears down in order on ^C, and asks us to stop
  // Only our own sockets from here on: no copy of the parent's (sockets, BPF links, files) is kept
  // alive by us. Logging goes to stderr, since the parent's logger may write to an fd closed here.
  if (ctl > 3) close_range(3, static_cast<unsigned>(ctl - 1), 0);
  close_range(static_cast<unsigned>(ctl + 1), ~0U, 0);
  cfg.own_process = false;
  cfg.process_forks = false;  // nothing in this process forks: connections skip epoll_ctl(DEL)
  cfg.log = stderr_log;
  int rc = 0;
  try {
    Proxy inner(cfg);
    try {
      inner.start();
    } catch (const std::exception& e) {
      send_msg(ctl, std::string("e") + e.what());
      _exit(1);
    }
    send_msg(ctl, "o" + std::to_string(inner.bound_port()));
    for (;;) {
      std::string req = recv_msg(ctl, nullptr, -1);
      if (req.empty() || req == "stop") break;
      if (req.rfind("listen ", 0) == 0) {
        try {
          inner.listen_on(static_cast<uint16_t>(std::stoul(req.substr(7))));
          send_msg(ctl, "o");
        } catch (const std::exception& e) {
          send_msg(ctl, std::string("e") + e.what());
        }
      } else if (req == "counters") {
        CounterSnapshot s = inner.counters();
        std::string m = "o";
        m.append(reinterpret_cast<const char*>(&s), sizeof s);
        send_msg(ctl, m);
      } else if (req == "fds tcp" || req == "fds udp") {
        send_msg(ctl, "o", req == "fds tcp" ? inner.tcp_listener_fds() : inner.udp_socket_fds());
      } else {
        send_msg(ctl, "eunknown request '" + req + "'");
      }
    }
    inner.stop();
    try {
      send_msg(ctl, "o");
    } catch (const std::exception&) {
      // the parent is gone: nobody to tell
    }
  } catch (const std::exception& e) {
    stderr_log(LogLevel::kError, e.what());
    rc = 1;
  }
  _exit(rc);
}

}  // namespace

void Proxy::remote_start() {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    throw std::runtime_error(errno_text("tproxy process: socketpair", errno));
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    throw std::runtime_error(errno_text("tproxy process: fork", e));
  }
  if (pid == 0) {
    close(sv[0]);
    child_main(cfg_, sv[1]);
  }
  close(sv[1]);
  child_ = pid;
  ctl_ = sv[0];
  std::string r;
  try {
    r = recv_msg(ctl_, nullptr, kReplyTimeoutMs);
  } catch (...) {
    remote_stop();
    throw;
  }
  if (r.size() < 2 || r[0] != 'o') {
    remote_stop(/*ask=*/false);  // it has exited (or is exiting) on its own: only reap it
    throw std::runtime_error(r.empty() ? std::string("tproxy process: the child exited before it was ready")
                                       : r.substr(1));
  }
  bound_port_ = static_cast<uint16_t>(std::stoul(r.substr(1)));
  {
    std::lock_guard<std::mutex> lk(mu_);
    ports_ = {bound_port_};
  }
  running_ = true;
  cfg_.log(LogLevel::kDebug, "tproxy: " + std::to_string(cfg_.workers) + " worker(s) in process " +
                                 std::to_string(child_) + " on port " + std::to_string(bound_port_));
}

std::string Proxy::remote_call(const std::string& request, std::vector<int>* fds) const {
  std::lock_guard<std::mutex> lk(ctl_mu_);
  if (ctl_ < 0) throw std::runtime_error("tproxy process: not running");
  send_msg(ctl_, request);
  std::string r = recv_msg(ctl_, fds, kReplyTimeoutMs);
  if (r.empty()) throw std::runtime_error("tproxy process " + std::to_string(child_) + " exited (request: " + request + ")");
  if (r[0] != 'o') throw std::runtime_error(r.substr(1));
  return r.substr(1);
}

std::vector<int> Proxy::remote_fds(const std::string& request) const {
  std::vector<int> v;
  if (!running_) return v;
  remote_call(request, &v);
  std::lock_guard<std::mutex> lk(mu_);
  held_fds_.insert(held_fds_.end(), v.begin(), v.end());
  return v;
}

void Proxy::remote_stop(bool ask) {
  if (ctl_ >= 0 && ask) {
    try {
      std::lock_guard<std::mutex> lk(ctl_mu_);
      send_msg(ctl_, "stop");
      recv_msg(ctl_, nullptr, kStopTimeoutMs);  // "o" once its workers are joined, or EOF
    } catch (const std::exception& e) {
      cfg_.log(LogLevel::kWarn, std::string("tproxy process: stop: ") + e.what());
    }
  }
  if (ctl_ >= 0) {
    close(ctl_);
    ctl_ = -1;
  }
  if (child_ > 0) {
    int status = 0;
    pid_t r = 0;
    for (int i = 0; i < 300 && (r = waitpid(child_, &status, WNOHANG)) == 0; ++i) usleep(10000);
    if (r == 0) {
      cfg_.log(LogLevel::kWarn, "tproxy process " + std::to_string(child_) + " did not exit within 3 s: killed");
      kill(child_, SIGKILL);
      waitpid(child_, &status, 0);
    }
    child_ = -1;
  }
  for (int f : held_fds_) close(f);
  held_fds_.clear();
  running_ = false;
}

}  // namespace pb::tproxy

// SPDX-License-Identifier: Apache-2.0
#include "workloads/responder.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "kernel/host.h"
#include "kernel/netns.h"
#include "kernel/sockets.h"
#include "workloads/http_wire.h"

namespace pb::workload {

bool read_full(int fd, char* buf, size_t n, const Phases& ph, std::string* err) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = recv(fd, buf + got, n - got, 0);
    if (r > 0) {
      got += static_cast<size_t>(r);
      continue;
    }
    if (r == 0) {
      *err = "connection closed by peer";
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (ph.stopping()) return false;
      continue;
    }
    *err = errno_msg("recv", errno);
    return false;
  }
  return true;
}

bool write_full(int fd, const char* buf, size_t n, const Phases& ph, std::string* err) {
  size_t off = 0;
  while (off < n) {
    ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
    if (w > 0) {
      off += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (ph.stopping()) return false;
      continue;
    }
    *err = errno_msg("send", errno);
    return false;
  }
  return true;
}

Responder::Responder(const std::string& ns, const WorkloadInfo& info, const WorkloadOptions& opt,
                     const Endpoint& bind, Phases& ph)
    : info_(info), opt_(opt), ph_(ph) {
  const bool tcp = info.protocol == Protocol::kTcp;
  void* m = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw_errno("mmap (responder state)", errno);
  sh_ = new (m) Shared();
  {
    ScopedNetns in(ns);
    listen_fd_ = tcp ? tcp_listen(bind, 4096, opt.tcp_cc, opt.tcp_buffer_bytes) : udp_bind(bind, 32 << 20);
  }
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (opt.responder == "process") {
    // fork, not exec: the child only runs the loop below on the sockets it inherits. glibc makes
    // malloc safe in the child of a threaded parent; the loops take no other lock.
    const pid_t parent = getpid();
    child_ = fork();
    if (child_ < 0) throw_errno("fork (--responder process)", errno);
    child_pid_ = child_;
    if (child_ == 0) {
      // Never outlives pathbench. The signal comes when the forking *thread* ends: the load's thread,
      // which stops this responder before it ends. A parent gone before prctl: exit at once.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      run_loop(tcp);
      _exit(sh_->failed ? 1 : 0);
    }
    return;
  }
  thread_ = std::thread([this, tcp] { run_loop(tcp); });
}

void Responder::run_loop(bool tcp) {
  try {
    pin_thread(opt_.server_cpu);
    // See responder.h for why each loop.
    const bool rr = info_.pattern == Pattern::kRr;
    if (tcp && rr && opt_.flows <= 64) loop_tcp_blocking();
    else if (tcp) loop_tcp();
    else if (rr) loop_udp_blocking();
    else loop_udp();
  } catch (const std::exception& e) {
    fail(e.what());
  }
}

void Responder::fail(const std::string& what) {
  if (sh_->failed.exchange(true)) return;
  std::snprintf(sh_->error, sizeof sh_->error, "%s", what.c_str());
}

Responder::~Responder() {
  stop();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
  if (sh_) {
    sh_->~Shared();
    munmap(sh_, sizeof(Shared));
  }
}

void Responder::stop() {
  sh_->stop_req = true;
  sh_->ph.phase.store(kStop, std::memory_order_relaxed);
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  if (child_ > 0) {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof one);
    // Its loops look at the stop flag at least every 200 ms (socket timeouts); a connection whose
    // client never closed ends at the same timeout. Bounded: killed after 3 s.
    int status = 0;
    for (int i = 0; i < 300; ++i) {
      if (waitpid(child_, &status, WNOHANG) == child_) {
        child_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (child_ > 0) {
      kill(child_, SIGKILL);
      waitpid(child_, &status, 0);
      child_ = -1;
      fail("the responder process did not stop within 3 s of the end (killed)");
    }
  }
}

nlohmann::json Responder::describe() const {
  const bool process = child_pid_ > 0;
  return {{"model", process ? "process" : "thread"},
          {"pid", process ? child_pid_ : getpid()},
          {"generator_pid", getpid()}};
}

std::string Responder::error() const { return sh_->failed.load() ? std::string(sh_->error) : std::string(); }

namespace {
struct Conn {
  uint64_t pending = 0;  // request bytes received toward the next response
  uint64_t out_left = 0; // response bytes still to write
  // http: the connection's parser, the responses it owes (from `sent` on), and whether it closes
  // once they are written (Connection: close, or a 400).
  std::unique_ptr<http::ServerConn> http;
  std::string out;
  size_t sent = 0;
  bool close_after = false;
  bool owes() const { return http ? sent < out.size() : out_left > 0; }
};
}  // namespace

void Responder::loop_tcp() {
  const bool stream = info_.pattern == Pattern::kStream;
  const size_t req = opt_.payload_bytes, resp = opt_.response_bytes;
  std::vector<char> buf(stream ? (1 << 18) : std::max<size_t>(65536, req));
  std::vector<char> out(std::max<size_t>(resp, 1), 'r');
  int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd_;
  epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.fd = stop_fd_;
  epoll_ctl(ep, EPOLL_CTL_ADD, stop_fd_, &ev);
  std::unordered_map<int, Conn> conns;
  auto drop = [&](int fd) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    conns.erase(fd);
  };
  // Writes what is owed; true when done, false on would-block (then EPOLLOUT is armed).
  auto flush = [&](int fd, Conn& c) -> int {
    while (c.owes()) {
      ssize_t w = c.http ? send(fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL)
                         : send(fd, out.data(), std::min<uint64_t>(c.out_left, out.size()), MSG_NOSIGNAL);
      if (w > 0) {
        if (c.http) c.sent += static_cast<size_t>(w);
        else c.out_left -= static_cast<uint64_t>(w);
        continue;
      }
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        epoll_event e{};
        e.events = EPOLLIN | EPOLLOUT;
        e.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
        return 0;
      }
      return -1;
    }
    if (c.http) {
      c.out.clear();
      c.sent = 0;
    }
    return 1;
  };
  const bool is_http = info_.application == Application::kHttp;
  epoll_event events[256];
  bool running = true;
  while (running) {
    if (hold_if_stalled()) break;
    int n = epoll_wait(ep, events, 256, 200);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == stop_fd_) {
        running = false;
        continue;
      }
      if (fd == listen_fd_) {
        for (;;) {
          int c = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          sh_->accepted.fetch_add(1, std::memory_order_relaxed);
          if (!stream) set_nodelay(c);
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
          conns[c] = Conn{};
          if (is_http) conns[c].http = std::make_unique<http::ServerConn>(static_cast<uint32_t>(resp));
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      Conn& c = it->second;
      if (events[i].events & EPOLLOUT) {
        int r = flush(fd, c);
        if (r < 0) {
          drop(fd);
          continue;
        }
        if (r > 0) {
          if (c.close_after) {
            drop(fd);
            continue;
          }
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.fd = fd;
          epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
        }
      }
      if (!(events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      ssize_t r = recv(fd, buf.data(), buf.size(), 0);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        drop(fd);
        continue;
      }
      if (r < 0) continue;
      sh_->bytes.fetch_add(static_cast<uint64_t>(r), std::memory_order_relaxed);
      if (stream) continue;
      if (c.http) {
        if (c.close_after) continue;  // what follows a Connection: close request is not read
        if (!c.http->feed(buf.data(), static_cast<size_t>(r), c.out)) c.close_after = true;
      } else {
        c.pending += static_cast<uint64_t>(r);
        while (c.pending >= req) {
          c.pending -= req;
          c.out_left += resp;
        }
      }
      if (c.owes() && !(events[i].events & EPOLLOUT)) {
        int w = flush(fd, c);
        if (w < 0 || (w > 0 && c.close_after)) {
          drop(fd);
          continue;
        }
      } else if (c.close_after && !c.owes()) {
        drop(fd);
        continue;
      }
      // crr: the client closes after its response; EOF above closes our side.
    }
  }
  for (auto& [fd, c] : conns) close(fd);
  close(ep);
}

void Responder::loop_tcp_blocking() {
  std::vector<std::thread> conns;
  pollfd pf[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  while (!sh_->stop_req) {
    if (poll(pf, 2, 200) <= 0) continue;
    if (pf[1].revents) break;
    int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    sh_->accepted.fetch_add(1, std::memory_order_relaxed);
    conns.emplace_back([this, c] {
      pin_thread(opt_.server_cpu);
      set_timeouts(c, 200);
      set_nodelay(c);
      if (info_.application == Application::kHttp) {
        serve_http(c);
        close(c);
        return;
      }
      std::vector<char> req(opt_.payload_bytes), resp(opt_.response_bytes, 'r');
      std::string err;
      while (!sh_->stop_req) {
        if (!read_full(c, req.data(), req.size(), phases(), &err)) break;
        sh_->bytes.fetch_add(req.size(), std::memory_order_relaxed);
        if (hold_if_stalled()) break;
        if (!write_full(c, resp.data(), resp.size(), phases(), &err)) break;
      }
      close(c);
    });
  }
  sh_->stop_req = true;
  for (auto& t : conns) t.join();
}

// One HTTP connection, blocking: whatever arrives (a part of a request, several pipelined ones)
// is fed to the parser, and the responses it completed go out in one write.
void Responder::serve_http(int c) {
  http::ServerConn conn(opt_.response_bytes);
  std::vector<char> buf(65536);
  std::string out, err;
  while (!sh_->stop_req) {
    ssize_t r = recv(c, buf.data(), buf.size(), 0);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;  // timeout: the stop flag
      break;
    }
    sh_->bytes.fetch_add(static_cast<uint64_t>(r), std::memory_order_relaxed);
    const bool open = conn.feed(buf.data(), static_cast<size_t>(r), out);
    if (hold_if_stalled()) break;
    if (!out.empty() && !write_full(c, out.data(), out.size(), phases(), &err)) break;
    out.clear();
    if (!open) break;  // Connection: close or a 400: closed once answered
  }
}

void Responder::loop_udp_blocking() {
  int fl = fcntl(listen_fd_, F_GETFL);
  fcntl(listen_fd_, F_SETFL, fl & ~O_NONBLOCK);
  set_timeouts(listen_fd_, 200);
  std::vector<char> buf(65536), out(std::max<uint32_t>(opt_.response_bytes, 1), 'r');
  while (!sh_->stop_req) {
    sockaddr_in peer{};
    socklen_t pl = sizeof peer;
    ssize_t n = recvfrom(listen_fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&peer), &pl);
    if (n < 0) continue;  // timeout: look at the stop flag
    sh_->packets.fetch_add(1, std::memory_order_relaxed);
    if (hold_if_stalled()) break;
    std::memcpy(out.data(), buf.data(), std::min<size_t>({8, static_cast<size_t>(n), out.size()}));
    sendto(listen_fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&peer), pl);
  }
}

void Responder::loop_udp() {
  const bool pps = info_.pattern == Pattern::kPps;
  constexpr unsigned kBatch = 64;
  std::vector<char> bufs(kBatch * 2048);
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  sockaddr_in peers[kBatch];
  std::vector<char> out(std::max<uint32_t>(opt_.response_bytes, 1), 'r');
  pollfd pf[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  for (;;) {
    if (hold_if_stalled()) break;
    std::memset(msgs, 0, sizeof msgs);
    for (unsigned i = 0; i < kBatch; ++i) {
      iov[i] = {bufs.data() + i * 2048, 2048};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &peers[i];
      msgs[i].msg_hdr.msg_namelen = sizeof peers[i];
    }
    int n = recvmmsg(listen_fd_, msgs, pps ? kBatch : 1, MSG_DONTWAIT, nullptr);
    if (n <= 0) {
      if (poll(pf, 2, 200) > 0 && (pf[1].revents & POLLIN)) break;
      continue;
    }
    sh_->packets.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    if (pps) continue;
    for (int i = 0; i < n; ++i) {
      // Echo the request's first 8 bytes (sequence number) so the client can match replies.
      size_t seq_len = std::min<size_t>(8, std::min<size_t>(msgs[i].msg_len, out.size()));
      std::memcpy(out.data(), iov[i].iov_base, seq_len);
      sendto(listen_fd_, out.data(), out.size(), MSG_DONTWAIT,
             reinterpret_cast<sockaddr*>(&peers[i]), msgs[i].msg_hdr.msg_namelen);
    }
  }
}

bool Responder::hold_if_stalled() {
  if (!sh_->stalled.load(std::memory_order_relaxed)) return false;
  while (!sh_->stop_req && !phases().stopping()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return true;
}

}  // namespace pb::workload

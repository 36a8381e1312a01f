// SPDX-License-Identifier: Apache-2.0
#include "workloads/responder.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "kernel/host.h"
#include "kernel/netns.h"
#include "kernel/sockets.h"

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
  {
    ScopedNetns in(ns);
    listen_fd_ = tcp ? tcp_listen(bind, 4096, opt.tcp_cc, opt.tcp_buffer_bytes) : udp_bind(bind, 32 << 20);
  }
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this, tcp, ns] {
    try {
      pin_thread(opt_.server_cpu);
      // See responder.h for why each loop.
      const bool rr = info_.pattern == Pattern::kRr;
      if (tcp && rr && opt_.flows <= 64) loop_tcp_blocking();
      else if (tcp) loop_tcp();
      else if (rr) loop_udp_blocking();
      else loop_udp();
    } catch (const std::exception& e) {
      error_ = e.what();
      failed_ = true;
    }
  });
}

Responder::~Responder() {
  stop();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
}

void Responder::stop() {
  stop_req_ = true;
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
}

std::string Responder::error() const { return failed_.load() ? error_ : std::string(); }

namespace {
struct Conn {
  uint64_t pending = 0;  // request bytes received toward the next response
  uint64_t out_left = 0; // response bytes still to write
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
    while (c.out_left) {
      ssize_t w = send(fd, out.data(), std::min<uint64_t>(c.out_left, out.size()), MSG_NOSIGNAL);
      if (w > 0) {
        c.out_left -= static_cast<uint64_t>(w);
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
    return 1;
  };
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
          accepted_.fetch_add(1, std::memory_order_relaxed);
          if (!stream) set_nodelay(c);
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
          conns[c] = Conn{};
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
      bytes_.fetch_add(static_cast<uint64_t>(r), std::memory_order_relaxed);
      if (stream) continue;
      c.pending += static_cast<uint64_t>(r);
      while (c.pending >= req) {
        c.pending -= req;
        c.out_left += resp;
      }
      if (c.out_left && !(events[i].events & EPOLLOUT)) {
        if (flush(fd, c) < 0) {
          drop(fd);
          continue;
        }
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
  while (!stop_req_) {
    if (poll(pf, 2, 200) <= 0) continue;
    if (pf[1].revents) break;
    int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    accepted_.fetch_add(1, std::memory_order_relaxed);
    conns.emplace_back([this, c] {
      pin_thread(opt_.server_cpu);
      set_timeouts(c, 200);
      set_nodelay(c);
      std::vector<char> req(opt_.payload_bytes), resp(opt_.response_bytes, 'r');
      std::string err;
      while (!stop_req_) {
        if (!read_full(c, req.data(), req.size(), ph_, &err)) break;
        bytes_.fetch_add(req.size(), std::memory_order_relaxed);
        if (hold_if_stalled()) break;
        if (!write_full(c, resp.data(), resp.size(), ph_, &err)) break;
      }
      close(c);
    });
  }
  stop_req_ = true;
  for (auto& t : conns) t.join();
}

void Responder::loop_udp_blocking() {
  int fl = fcntl(listen_fd_, F_GETFL);
  fcntl(listen_fd_, F_SETFL, fl & ~O_NONBLOCK);
  set_timeouts(listen_fd_, 200);
  std::vector<char> buf(65536), out(std::max<uint32_t>(opt_.response_bytes, 1), 'r');
  while (!stop_req_) {
    sockaddr_in peer{};
    socklen_t pl = sizeof peer;
    ssize_t n = recvfrom(listen_fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&peer), &pl);
    if (n < 0) continue;  // timeout: look at the stop flag
    packets_.fetch_add(1, std::memory_order_relaxed);
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
    packets_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
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
  if (!stalled_.load(std::memory_order_relaxed)) return false;
  while (!stop_req_ && !ph_.stopping()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return true;
}

}  // namespace pb::workload

// SPDX-License-Identifier: Apache-2.0
// tproxy/listeners.cpp: a worker's listening sockets on one port: the TCP listener (transparent,
// SO_REUSEPORT across workers, options its accepted sockets inherit: TCP_NODELAY, keepalive,
// congestion control, fixed buffers) and the UDP socket (transparent, IP_RECVORIGDSTADDR for the
// original destination), opened in the calling thread's namespace and added to the epoll set.
#include <netinet/tcp.h>
#include <sys/epoll.h>

#include "sock_util.h"
#include "worker.h"

namespace pb::tproxy {

namespace {

// What both listeners share: SO_REUSEADDR, SO_REUSEPORT (one group across the workers; not with
// Config::reuseport false) and, for interception, IP_TRANSPARENT.
int listener_socket(int type, bool transparent, bool reuseport, const char* proto) {
  int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw sys_error(std::string("socket(") + proto + ")", errno);
  try {
    set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
    if (reuseport) set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
    if (transparent) set_int(fd, SOL_IP, IP_TRANSPARENT, 1, "IP_TRANSPARENT (needs CAP_NET_ADMIN)");
  } catch (...) {
    close(fd);
    throw;
  }
  return fd;
}

uint16_t local_port(int fd) {
  sockaddr_in b{};
  socklen_t bl = sizeof b;
  getsockname(fd, reinterpret_cast<sockaddr*>(&b), &bl);
  return ntohs(b.sin_port);
}

}  // namespace

uint16_t Proxy::Worker::open_listeners(uint16_t want_port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(want_port);
  sa.sin_addr.s_addr = listen_ip;
  const std::string where = cfg.listen_ip + ":" + std::to_string(want_port);
  epoll_event ev{};
  ev.events = EPOLLIN;
  std::unique_ptr<Listener> tl, ul;
  // Closes what this call opened if a later step fails.
  struct Guard {
    std::unique_ptr<Listener>& a;
    std::unique_ptr<Listener>& b;
    ~Guard() {
      for (auto* l : {a.get(), b.get()})
        if (l && l->fd >= 0) close(l->fd);
    }
  } guard{tl, ul};
  if (cfg.tcp) {
    tl = std::make_unique<Listener>();
    tl->h = {Kind::kTcpListener, tl.get()};
    int fd = tl->fd = listener_socket(SOCK_STREAM, cfg.transparent, cfg.reuseport, "tcp");
    // Inherited by accepted sockets (they are clones of the listener).
    set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
    if (cfg.keepalive) set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
    // Congestion control: also inherited by accepted sockets.
    if (!cfg.tcp_cc.empty() &&
        setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cfg.tcp_cc.data(), static_cast<socklen_t>(cfg.tcp_cc.size())) != 0)
      throw sys_error("setsockopt(TCP_CONGESTION, " + cfg.tcp_cc + ")", errno);
    if (cfg.tcp_buffer_bytes > 0) set_buffers(fd, cfg.tcp_buffer_bytes);  // also inherited
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      throw sys_error("bind " + where + " (tcp)", errno);
    if (listen(fd, cfg.backlog) != 0) throw sys_error("listen " + where, errno);
    tl->port = local_port(fd);
    sa.sin_port = htons(tl->port);  // UDP takes the same port (matters when want_port was 0)
  }
  if (cfg.udp) {
    ul = std::make_unique<Listener>();
    ul->h = {Kind::kUdpListener, ul.get()};
    int fd = ul->fd = listener_socket(SOCK_DGRAM, cfg.transparent, cfg.reuseport, "udp");
    set_int(fd, SOL_IP, IP_RECVORIGDSTADDR, 1, "IP_RECVORIGDSTADDR");
    if (cfg.udp_rcvbuf > 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &cfg.udp_rcvbuf, sizeof cfg.udp_rcvbuf) != 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cfg.udp_rcvbuf, sizeof cfg.udp_rcvbuf);  // capped by rmem_max
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      throw sys_error("bind " + cfg.listen_ip + ":" + std::to_string(ntohs(sa.sin_port)) + " (udp)", errno);
    ul->port = local_port(fd);
  }
  // Registered last: once in the epoll set the worker may use them.
  for (auto* l : {tl.get(), ul.get()}) {
    if (!l) continue;
    ev.data.ptr = &l->h;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, l->fd, &ev) != 0) {
      int e = errno;
      if (tl && tl.get() != l && tl->fd >= 0) epoll_ctl(epfd, EPOLL_CTL_DEL, tl->fd, nullptr);
      throw sys_error("epoll_ctl(listener)", e);
    }
  }
  uint16_t port = tl ? tl->port : ul->port;
  if (tl) tcp_listeners.push_back(std::move(tl));
  if (ul) udp_listeners.push_back(std::move(ul));
  return port;
}

}  // namespace pb::tproxy

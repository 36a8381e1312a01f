// SPDX-License-Identifier: Apache-2.0
#include "kernel/sockets.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace pb {

sockaddr_in ipv4_sockaddr(const Endpoint& ep) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(ep.port);
  if (inet_pton(AF_INET, ep.ip.c_str(), &sa.sin_addr) != 1) throw UsageError("bad IPv4 address '" + ep.ip + "'");
  return sa;
}

void set_congestion_control(int fd, const std::string& cc) {
  if (cc.empty()) return;
  if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc.data(), static_cast<socklen_t>(cc.size())) != 0)
    throw EnvError(errno_msg("setsockopt(TCP_CONGESTION, " + cc + ") (see net.ipv4.tcp_available_congestion_control; "
                             "modprobe tcp_" + cc + ")", errno));
}

std::string congestion_control_of(int fd) {
  char buf[32] = {};
  socklen_t len = sizeof buf;
  if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, buf, &len) != 0) return {};
  return std::string(buf, strnlen(buf, sizeof buf));
}

static int bound_socket(int type, const Endpoint& ep, const char* what) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw_errno("socket", errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa = ipv4_sockaddr(ep);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int e = errno;
    close(fd);
    throw_errno(std::string("bind ") + what + " " + ep.ip + ":" + std::to_string(ep.port), e);
  }
  return fd;
}

void set_buffers(int fd, int bytes) {
  if (bytes <= 0) return;
  for (auto [force, plain] : {std::pair{SO_SNDBUFFORCE, SO_SNDBUF}, std::pair{SO_RCVBUFFORCE, SO_RCVBUF}})
    if (setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof bytes) != 0 &&
        setsockopt(fd, SOL_SOCKET, plain, &bytes, sizeof bytes) != 0)
      throw_errno("setsockopt(SO_SNDBUF/SO_RCVBUF)", errno);
}

int tcp_listen(const Endpoint& ep, int backlog, const std::string& cc, int buffer_bytes) {
  int fd = bound_socket(SOCK_STREAM, ep, "tcp");
  try {
    set_congestion_control(fd, cc);
    set_buffers(fd, buffer_bytes);  // before listen(): the window scale of accepted sockets follows it
  } catch (...) {
    close(fd);
    throw;
  }
  if (listen(fd, backlog) != 0) {
    int e = errno;
    close(fd);
    throw_errno("listen", e);
  }
  return fd;
}

int udp_bind(const Endpoint& ep, int rcvbuf) {
  int fd = bound_socket(SOCK_DGRAM, ep, "udp");
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  return fd;
}

void set_timeouts(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int tcp_connect(const Endpoint& target, int timeout_ms, std::string* err, const std::string& cc, int buffer_bytes) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = errno_msg("socket", errno);
    return -1;
  }
  try {
    set_congestion_control(fd, cc);
    set_buffers(fd, buffer_bytes);  // before connect(): the SYN's window scale follows it
  } catch (const std::exception& e) {
    *err = e.what();
    close(fd);
    return -1;
  }
  set_timeouts(fd, timeout_ms);
  sockaddr_in sa = ipv4_sockaddr(target);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    *err = errno_msg("connect " + target.ip + ":" + std::to_string(target.port), errno);
    close(fd);
    return -1;
  }
  return fd;
}

int udp_connect(const Endpoint& target, std::string* err) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = errno_msg("socket", errno);
    return -1;
  }
  sockaddr_in sa = ipv4_sockaddr(target);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    *err = errno_msg("connect udp " + target.ip + ":" + std::to_string(target.port), errno);
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace pb
